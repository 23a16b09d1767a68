// wink-nlp's `its` helpers without a language model: the BM25 vectorizer's documented outputs
// (`doc(n).out(its.bow)`) take them, and the package declares no types for this path.
declare module 'wink-nlp/src/its.js' {
  import type { ItsHelpers } from 'wink-nlp';

  const its: ItsHelpers;
  export = its;
}
