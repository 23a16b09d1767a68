import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { packageRoot } from '../../src/engine/packageRoot.js';

// What package.json promises the editor (issue 12 item 6, issue 11 item 19).

describe('the extension manifest', () => {
  let manifest: { capabilities?: { untrustedWorkspaces?: { supported: unknown; description?: string }; virtualWorkspaces?: unknown }; publisher: string; contributes: { configuration: { title: string; properties: Record<string, unknown> } } };
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

  // Why the Settings editor can still say "Icl Lab: Model Path" (checked against VS Code's source,
  // src/vs/workbench/contrib/preferences/browser/settingsTreeModels.ts and settingsTree.ts): a
  // setting's label comes from its key alone. settingKeyToDisplayFormat splits `iclLab.modelPath`
  // into category `iclLab` and name `modelPath`, trimCategoryForGroup removes the category where it
  // matches the id of the group the setting is shown in, and wordifyKey turns what is left into
  // words ("iclLab" → "Icl Lab": "icl" is not in its knownAcronyms). The configuration's `title`,
  // `id` and `order` only name and order the table-of-contents groups; they never reach the label
  // (the per-setting title path, ISetting.title, is not filled from extension manifests). Within our
  // own group (a single category: the group id is the extension id, `icl-lab.icl-activation-lab`)
  // the publisher `icl-lab`, hyphen dropped, equals the prefix, so the prefix is trimmed and the
  // label reads "Model Path"; search results sit in a group named `searchResultModel`, where
  // nothing is trimmed and "Icl Lab: Model Path" shows. Several categories with ids would not
  // change search results either. Only renaming the keys would, which would break every user's
  // settings: we keep `iclLab.*`.
  it('keeps every setting under the publisher\'s name, so our own settings group shows no "Icl Lab" prefix', () => {
    const prefix = manifest.publisher.replace(/-/g, '').toLowerCase();
    for (const key of Object.keys(manifest.contributes.configuration.properties)) assert.equal(key.split('.')[0]!.toLowerCase(), prefix, key);
  });
});
