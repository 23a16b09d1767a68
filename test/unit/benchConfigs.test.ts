import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { loadRunConfig } from '../../src/core/experiment/runConfig.js';
import { packageRoot } from '../../src/engine/packageRoot.js';

// The benchmark studies are configs nobody runs in the suite: a renamed strategy or key would
// break `npm run bench:study` unnoticed (it did: "oracle" outlived its rename to top-quality).
describe('bench/studies configs', () => {
  it('every one loads under the current schema', async () => {
    const dir = path.join(packageRoot(), 'bench', 'studies');
    const files = (await readdir(dir)).filter((f) => f.endsWith('.run.yaml'));
    assert.ok(files.length >= 2);
    for (const file of files) await loadRunConfig(path.join(dir, file));
  });
});
