// Versions reported by `icl-lab --version` and the engine. The bundler inlines package.json.
import manifest from '../../package.json' with { type: 'json' };
import llamaRelease from '../../node_modules/node-llama-cpp/llama/binariesGithubRelease.json' with { type: 'json' };

export const engineVersion: string = manifest.version;
export const nodeLlamaCppVersion: string = manifest.dependencies['node-llama-cpp'];
export const llamaCppRelease: string = llamaRelease.release;
