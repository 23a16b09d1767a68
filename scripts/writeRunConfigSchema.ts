// Writes media/run-config.schema.json from runConfigSchema, the one source of truth (VS Code
// validates *.run.json files with it). test/unit/runConfigSchemaFile.test.ts checks it is current.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { runConfigSchema } from '../src/core/experiment/runConfig.js';
import { packageRoot } from '../src/engine/packageRoot.js';

export const runConfigSchemaFile = path.join(packageRoot(), 'media', 'run-config.schema.json');
export const runConfigSchemaText = JSON.stringify(runConfigSchema, null, 2) + '\n';

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  writeFileSync(runConfigSchemaFile, runConfigSchemaText);
  console.log(`wrote ${runConfigSchemaFile}`);
}
