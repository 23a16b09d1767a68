// How every printed headline names the model its figures came from. A model written by this
// project's generator has random weights: its label says so, and every surface that shows figures
// (terminal headline, report.html, each panel) carries the same banner, so no figure from it is
// mistaken for a fact about a real model.
import type { ModelFacts } from './experimentModel.js';

/** The one banner text for figures from a generated (random-weight) model. */
export const generatedModelBanner = 'generated model with random weights: these numbers test the pipeline, not a model';

/** True when run.json's model record (or any object shaped like it) says the generator wrote it. */
export function isGeneratedModel(facts: unknown): boolean {
  return typeof facts === 'object' && facts !== null && (facts as Record<string, unknown>)['generated'] === true;
}

export function modelLabel(facts: ModelFacts): string {
  const name = typeof facts['name'] === 'string' ? facts['name'] : facts.path.split(/[\\/]/).pop()!;
  const shape = `${facts.architecture}, ${facts.layers} layers × ${facts.embeddingLength}, ${facts.quantization}, sha256 ${facts.sha256.slice(0, 12)}…`;
  return isGeneratedModel(facts)
    ? `GENERATED model with random weights "${name}" (${shape}): its figures say nothing about a real model`
    : `${name} (${shape})`;
}
