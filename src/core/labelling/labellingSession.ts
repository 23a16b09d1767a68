// A human-in-the-loop labelling session over one data file, kept beside it in
// `<data file>.labelling.json`: which fields the rows have, the label set, how rounds are proposed
// (strategy, round size, seed, where ranking information comes from), and every round's proposed
// rows. The labels themselves live in the labels sidecar (labelSidecar.ts); a round is complete
// when each of its rows has a label there (or in the file).
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { DatasetFormat } from '../dataset/datasetFormat.js';
import type { ClassLabel, DatasetSpec } from '../dataset/datasetSpec.js';
import { labelSidecarPath } from './labelSidecar.js';
import type { Proposal, ProposedRow } from './proposeRound.js';

export interface LabellingRound {
  /** 1-based. */
  readonly round: number;
  readonly strategy: string;
  readonly proposedAt: string;
  readonly proposed: readonly ProposedRow[];
  /** Where the ranking information came from, when the strategy used any. */
  readonly source?: string;
}

export interface LabellingSession {
  readonly format: 'icl-lab-labelling/1';
  readonly data: {
    readonly inputs: readonly string[];
    readonly id?: string;
    /** The field a label would have in the file (rows labelled there count as labelled). */
    readonly target: string;
    readonly task: 'classification' | 'generative';
    readonly format?: DatasetFormat;
  };
  /** Classification: the labels the annotator chooses from. */
  readonly labels?: readonly ClassLabel[];
  /** Strategy of the next round. */
  readonly strategy: string;
  /** Rows proposed per round. */
  readonly roundSize: number;
  readonly seed: number;
  /** A run folder on this file whose statistic and vectors rank rows, or a stats.csv (with the column to use). */
  readonly rankBy?: { readonly run: string } | { readonly statsFile: string; readonly mask: string; readonly pooling: string; readonly statistic: string; readonly layer: number | 'middle' | 'last' };
  readonly rounds: readonly LabellingRound[];
}

export function labellingSessionPath(dataFile: string): string {
  return `${dataFile}.labelling.json`;
}

/** The session beside `dataFile`, or undefined when there is none. Throws when the file is not a session. */
export async function readLabellingSession(dataFile: string): Promise<LabellingSession | undefined> {
  const file = labellingSessionPath(dataFile);
  if (!existsSync(file)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse((await readFile(file, 'utf8')).replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new Error(`${file}: malformed JSON (${(error as Error).message})`);
  }
  const session = value as Partial<LabellingSession> | null;
  if (session?.format !== 'icl-lab-labelling/1') throw new Error(`${file}: not a labelling session (format "icl-lab-labelling/1" expected)`);
  if (!Array.isArray(session.data?.inputs) || typeof session.data.target !== 'string') throw new Error(`${file}: data.inputs and data.target are needed`);
  if (!Array.isArray(session.rounds)) throw new Error(`${file}: rounds must be a list`);
  if (!Number.isInteger(session.roundSize) || session.roundSize! < 1) throw new Error(`${file}: roundSize must be a whole number ≥ 1`);
  return session as LabellingSession;
}

/** Writes the session under a temporary name and renames it into place: the old or the new session, never half of one. */
export async function writeLabellingSession(dataFile: string, session: LabellingSession): Promise<void> {
  const file = labellingSessionPath(dataFile);
  const partial = `${file}.${process.pid}.partial`;
  await writeFile(partial, JSON.stringify(session, null, 2) + '\n');
  await rename(partial, file);
}

/** How the session reads the data file: its labels sidecar merged, unlabelled rows kept. */
export function sessionDatasetSpec(dataFile: string, session: LabellingSession): DatasetSpec {
  return {
    file: dataFile,
    ...(session.data.format ? { format: session.data.format } : {}),
    inputs: session.data.inputs,
    ...(session.data.id ? { id: session.data.id } : {}),
    task:
      session.data.task === 'generative'
        ? { type: 'generative', target: session.data.target }
        : { type: 'classification', target: session.data.target, ...(session.labels ? { labels: session.labels } : {}) },
    humanLabelsFile: labelSidecarPath(dataFile),
  };
}

/** The session with `proposal` as its next round. */
export function withRound(session: LabellingSession, proposal: Proposal, proposedAt: string, source?: string): LabellingSession {
  const round: LabellingRound = {
    round: session.rounds.length + 1,
    strategy: session.strategy,
    proposedAt,
    proposed: proposal.proposed,
    ...(source ? { source } : {}),
  };
  return { ...session, rounds: [...session.rounds, round] };
}

export interface RoundProgress {
  /** The latest round (0: none proposed yet). */
  readonly round: number;
  readonly rows: readonly (ProposedRow & { readonly labelled: boolean })[];
  readonly done: number;
  /** Every row of the latest round is labelled (true when there is no round yet: the next can start). */
  readonly complete: boolean;
}

/** Where the latest round stands, given the ids labelled so far. */
export function roundProgress(session: LabellingSession, labelled: ReadonlySet<string>): RoundProgress {
  const latest = session.rounds.at(-1);
  if (!latest) return { round: 0, rows: [], done: 0, complete: true };
  const rows = latest.proposed.map((p) => ({ ...p, labelled: labelled.has(p.id) }));
  const done = rows.filter((r) => r.labelled).length;
  return { round: latest.round, rows, done, complete: done === rows.length };
}
