import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { packageRoot } from '../../src/engine/packageRoot.js';

// What package.json promises the editor (issue 12 item 6, issue 11 item 19).

describe('the extension manifest', () => {
  let manifest: { capabilities?: { untrustedWorkspaces?: { supported: unknown; description?: string }; virtualWorkspaces?: unknown }; contributes: { configuration: { title: string } } };
  before(async () => (manifest = JSON.parse(await readFile(path.join(packageRoot(), 'package.json'), 'utf8'))));

  it('declares untrusted workspaces unsupported, saying why (native code, configs run from the workspace)', () => {
    const untrusted = manifest.capabilities?.untrustedWorkspaces;
    assert.equal(untrusted?.supported, false);
    assert.match(untrusted?.description ?? '', /native code/);
    assert.match(untrusted?.description ?? '', /run configs/);
  });

  it('declares virtual workspaces unsupported (runs need files on disk)', () => {
    assert.equal(manifest.capabilities?.virtualWorkspaces, false);
  });

  it('titles its settings "ICL Lab"', () => {
    assert.equal(manifest.contributes.configuration.title, 'ICL Lab');
  });
});
