// The rows of the Model view: the selected model's facts as the engine reports them, or what is
// wrong with the selected file. No vscode import: tested with mocha; modelView.ts turns rows into
// tree items.
import path from 'node:path';
import { quantizationLabel } from '../../core/experiment/modelLabel.js';
import { formatBytes } from '../../core/models/downloadEvents.js';
import type { ModelInfo } from '../../engine/protocol.js';

export interface ModelRow {
  readonly id: string;
  readonly label: string;
  readonly description: string;
  readonly tooltip: string;
  /** A codicon name. */
  readonly icon: string;
  readonly kind: 'fact' | 'problem' | 'action';
  /** The command a click runs (problems and actions). */
  readonly command?: 'iclLab.selectModel' | 'iclLab.downloadModel';
}


export type ModelFacts = Pick<ModelInfo, 'path' | 'architecture' | 'layers' | 'embeddingLength' | 'quantization' | 'fileBytes' | 'gpu'>;

export function modelFactRows(info: ModelFacts): ModelRow[] {
  const fact = (id: string, label: string, description: string, tooltip: string, icon: string): ModelRow => ({ id, label, description, tooltip, icon, kind: 'fact' });
  return [
    fact('file', 'File', path.basename(info.path), info.path, 'file-binary'),
    fact('architecture', 'Architecture', info.architecture, `GGUF general.architecture: ${info.architecture}`, 'symbol-class'),
    fact('layers', 'Layers', String(info.layers), `${info.layers} transformer blocks (sites blocks.0 … blocks.${info.layers - 1})`, 'layers'),
    fact('width', 'Width', String(info.embeddingLength), `embedding length (d_model): each MLP output is [tokens, ${info.embeddingLength}]`, 'symbol-ruler'),
    fact('quantization', 'Quantisation', quantizationLabel(info.quantization), `GGUF general.file_type: ${info.quantization}`, 'symbol-numeric'),
    fact('size', 'File size', formatBytes(info.fileBytes), `${info.fileBytes.toLocaleString('en-US')} bytes`, 'database'),
    fact('gpu', 'GPU backend', info.gpu, `llama.cpp backend the engine uses (setting iclLab.gpu)`, 'circuit-board'),
  ];
}

/**
 * While a model loads (in the engine for this view, or in a run's own process): one "loading…" row
 * naming the file and the runs loading it, so the view never says "No model selected" meanwhile.
 */
export function modelLoadingRows(modelPath: string | undefined, runs: readonly string[]): ModelRow[] {
  const what = [modelPath ? path.basename(modelPath) : undefined, runs.length > 0 ? `for ${runs.join(', ')}` : undefined].filter(Boolean).join(' ');
  const tooltip = modelPath ? `The engine is loading ${modelPath}` : `The run${runs.length > 1 ? 's' : ''} ${runs.join(', ')} ${runs.length > 1 ? 'are' : 'is'} loading the model named in the run config`;
  return [{ id: 'loading', label: 'loading…', description: what, tooltip, icon: 'loading~spin', kind: 'fact' }];
}

export type ModelProblem = 'missing' | 'not-a-file' | 'not-gguf' | 'unreadable' | 'engine';

const problemTitles: Readonly<Record<ModelProblem, string>> = {
  missing: 'Model file not found',
  'not-a-file': 'Not a file',
  'not-gguf': 'Not a GGUF file',
  unreadable: 'Cannot read the model file',
  engine: 'The engine cannot load this model',
};

/** What is wrong with the selected model, and the ways out. */
export function modelProblemRows(modelPath: string, problem: ModelProblem, message: string): ModelRow[] {
  return [
    { id: 'problem', label: problemTitles[problem], description: path.basename(modelPath), tooltip: message, icon: 'error', kind: 'problem', command: 'iclLab.selectModel' },
    { id: 'detail', label: message, description: '', tooltip: message, icon: 'blank', kind: 'problem' },
    { id: 'select', label: 'Select Model…', description: '', tooltip: 'Pick another GGUF file', icon: 'file-binary', kind: 'action', command: 'iclLab.selectModel' },
    { id: 'download', label: 'Download Model…', description: '', tooltip: "Download one of the paper's models or a model by URI", icon: 'cloud-download', kind: 'action', command: 'iclLab.downloadModel' },
  ];
}
