// Where the headers of the Node that runs this script live, for node-gyp's --nodedir. nvm, the
// official tarballs and Debian's nodejs package all put them in `include/node` beside the `bin`
// folder that holds the binary (/usr/bin/node → /usr/include/node). With that folder node-gyp
// builds offline; without it node-gyp falls back to its own header cache or a download.
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The --nodedir for the running Node, or undefined when no headers sit beside its binary. */
export function runningNodeDir(execPath = process.execPath) {
  const candidates = new Set();
  for (const binary of [execPath, safeRealpath(execPath)]) {
    if (binary) candidates.add(path.dirname(path.dirname(binary)));
  }
  for (const dir of candidates) {
    if (existsSync(path.join(dir, 'include', 'node', 'node.h')) && existsSync(path.join(dir, 'include', 'node', 'common.gypi'))) return dir;
  }
  return undefined;
}

function safeRealpath(file) {
  try {
    return realpathSync(file);
  } catch {
    return undefined;
  }
}

// `node scripts/nodeHeaders.mjs` prints the folder (nothing, exit 1, when there is none).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = runningNodeDir();
  if (dir) console.log(dir);
  else process.exitCode = 1;
}
