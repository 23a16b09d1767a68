// The native tap compiles against llama.cpp's headers of exactly the release node-llama-cpp was
// built from (llama_context_params is passed by value and changes between releases). Those
// headers come from the git bundle node-llama-cpp ships; cloning it needs no network.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

// binding.gyp reads the headers from the same place.
const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const packageRoot = path.join(projectRoot, 'node_modules', 'node-llama-cpp');
const llamaCppDir = path.join(packageRoot, 'llama', 'llama.cpp');
const header = path.join(llamaCppDir, 'include', 'llama.h');

if (existsSync(header)) {
  console.log(`llama.cpp headers present: ${llamaCppDir}`);
} else {
  const cli = path.join(packageRoot, 'dist', 'cli', 'cli.js');
  const result = spawnSync(process.execPath, [cli, 'source', 'download', '--skipBuild', '--noUsageExample'], {
    stdio: 'inherit',
  });
  if (result.status !== 0 || !existsSync(header)) {
    console.error(`could not unpack llama.cpp's source from node-llama-cpp's bundle into ${llamaCppDir}`);
    process.exit(1);
  }
}
