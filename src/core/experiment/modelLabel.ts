// How every printed headline names the model its figures came from. A model written by this
// project's generator has random weights: its label says so, so no figure from it is mistaken for
// a fact about a real model.
import type { ModelFacts } from './experimentModel.js';

export function modelLabel(facts: ModelFacts): string {
  const name = typeof facts['name'] === 'string' ? facts['name'] : facts.path.split(/[\\/]/).pop()!;
  const shape = `${facts.architecture}, ${facts.layers} layers × ${facts.embeddingLength}, ${facts.quantization}, sha256 ${facts.sha256.slice(0, 12)}…`;
  return facts['generated'] === true
    ? `GENERATED model with random weights "${name}" (${shape}): its figures say nothing about a real model`
    : `${name} (${shape})`;
}
