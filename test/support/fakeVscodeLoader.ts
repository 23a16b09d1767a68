// Resolves `import … from 'vscode'` to test/support/fakeVscode.ts (through the hooks after this
// one, so tsx still compiles it): import this module before the extension modules under test, and
// import those dynamically.
import { register } from 'node:module';

const fakeUrl = new URL('./fakeVscode.ts', import.meta.url).href;
const hooks = `export async function resolve(specifier, context, next) {
  if (specifier === 'vscode') return next(${JSON.stringify(fakeUrl)}, context);
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
