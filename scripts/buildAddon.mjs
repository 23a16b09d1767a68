// `npm install`'s build of the native tap: llama.cpp's headers from node-llama-cpp's bundle, then
// node-gyp against the headers of the Node running this script, so the build neither downloads
// headers nor depends on one machine's npm `nodedir` setting.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runningNodeDir } from './nodeHeaders.mjs';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const run = (args) => spawnSync(process.execPath, args, { stdio: 'inherit', cwd: projectRoot }).status ?? 1;

const headers = run([path.join(projectRoot, 'scripts', 'fetchLlamaHeaders.mjs')]);
if (headers !== 0) process.exit(headers);

const nodeGyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
const nodeDir = runningNodeDir();
const args = [nodeGyp, 'rebuild'];
if (nodeDir) {
  console.log(`building the activation tap against Node ${process.version}'s headers in ${path.join(nodeDir, 'include', 'node')}`);
  args.push(`--nodedir=${nodeDir}`);
} else {
  console.warn(
    `no Node headers beside ${process.execPath} (looked for ../include/node/node.h): node-gyp uses its own header cache or downloads ` +
      `the headers of Node ${process.version}; offline, install Node with its headers (nvm, the official tarball or Debian's nodejs package)`,
  );
}
process.exit(run(args));
