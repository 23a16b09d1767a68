#!/usr/bin/env node
// Thin launcher so `npx icl-lab` runs the bundled CLI.
import('../dist/cli.mjs');
