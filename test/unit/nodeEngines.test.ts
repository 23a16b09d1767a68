import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import semver from 'semver';
import { packageRoot } from '../../src/engine/packageRoot.js';

interface LockPackage {
  readonly version?: string;
  readonly engines?: { readonly node?: string } | readonly string[];
}

const root = packageRoot();
const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockPackage> };

/** Every locked package whose engines.node the given Node version does not satisfy. */
function unsupported(nodeVersion: string): string[] {
  const out: string[] = [];
  for (const [where, pkg] of Object.entries(lock.packages)) {
    const range = !Array.isArray(pkg.engines) ? (pkg.engines as { node?: string } | undefined)?.node : undefined;
    if (where === '' || !range) continue;
    if (!semver.satisfies(nodeVersion, range, { includePrerelease: true })) out.push(`${where.replace(/^.*node_modules\//, '')}@${pkg.version}: node ${range}`);
  }
  return out;
}

describe('Node versions', () => {
  it('the running Node satisfies the project’s own engines.node', () => {
    assert.ok(semver.satisfies(process.versions.node, manifest.engines.node), `${process.versions.node} vs ${manifest.engines.node}`);
  });

  // npm prints EBADENGINE for each of these on every install; the extension host runs Node 20.
  it('every locked dependency accepts the running Node (no EBADENGINE on install)', () => {
    assert.deepEqual(unsupported(process.versions.node), []);
  });

  it('the check finds a dependency that needs a newer Node', () => {
    assert.ok(unsupported('18.0.0').length > 0, 'some dependency needs more than Node 18');
  });
});
