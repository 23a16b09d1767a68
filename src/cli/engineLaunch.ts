// How the CLI starts its engine process: the bundled dist/engineServer.mjs next to dist/cli.mjs,
// or, when the CLI itself runs from TypeScript sources (tests, development), server.ts under tsx.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EngineClientOptions } from '../engine/client.js';
import { defaultServerModule } from '../engine/client.js';
import { packageRoot } from '../engine/packageRoot.js';

export function engineLaunchOptions(): Pick<EngineClientOptions, 'serverModule' | 'execArgv'> {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) {
    return { serverModule: path.join(packageRoot(), 'src', 'engine', 'server.ts'), execArgv: ['--import', 'tsx'] };
  }
  return { serverModule: defaultServerModule(path.dirname(here)) };
}
