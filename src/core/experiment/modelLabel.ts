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

/** GGUF file types as people name quantisations: MOSTLY_Q8_0 → Q8_0, ALL_F32 → F32. */
export function quantizationLabel(fileType: string): string {
  return fileType.replace(/^(MOSTLY|ALL)_/, '');
}

/** run.json's model record, or an error saying why a run has none (it failed before its model loaded). */
export function recordedModel<T>(record: { model?: T; error?: string }, dir: string): T {
  if (record.model) return record.model;
  throw new Error(`${dir}: run.json records no model: the run failed before its model loaded${record.error ? ` (${record.error})` : ''}`);
}

export function modelLabel(facts: ModelFacts): string {
  const name = typeof facts['name'] === 'string' ? facts['name'] : facts.path.split(/[\\/]/).pop()!;
  const shape = `${facts.architecture}, ${facts.layers} layers × ${facts.embeddingLength}, ${quantizationLabel(facts.quantization)}, sha256 ${facts.sha256.slice(0, 12)}…`;
  return isGeneratedModel(facts)
    ? `GENERATED model with random weights "${name}" (${shape}): its figures say nothing about a real model`
    : `${name} (${shape})`;
}
