// The models "Download Model…" and `icl-lab download-model` offer by name: the two base models the
// paper studies, as Q8_0 GGUF files from QuantFactory's Hugging Face repositories (Q8_0 keeps the
// activations close to the f16 weights' while halving the download).

export interface CatalogModel {
  /** Short name accepted by `icl-lab download-model` in place of a URI. */
  readonly id: string;
  readonly label: string;
  /** node-llama-cpp model URI: `hf:<user>/<repo>/<file>` names one file, so nothing is resolved over the network. */
  readonly uri: string;
  /** The original (unquantised) model on Hugging Face. */
  readonly baseModel: string;
  readonly quantization: string;
  /** Approximate download size in bytes, for the pick list; the server tells the exact size. */
  readonly approxBytes: number;
  readonly architecture: string;
}

export const paperModels: readonly CatalogModel[] = [
  {
    id: 'llama-3.2-3b',
    label: 'Llama 3.2 3B (base)',
    uri: 'hf:QuantFactory/Llama-3.2-3B-GGUF/Llama-3.2-3B.Q8_0.gguf',
    baseModel: 'meta-llama/Llama-3.2-3B',
    quantization: 'Q8_0',
    approxBytes: 3.42e9,
    architecture: 'llama',
  },
  {
    id: 'qwen2.5-3b',
    label: 'Qwen2.5 3B (base)',
    uri: 'hf:QuantFactory/Qwen2.5-3B-GGUF/Qwen2.5-3B.Q8_0.gguf',
    baseModel: 'Qwen/Qwen2.5-3B',
    quantization: 'Q8_0',
    approxBytes: 3.62e9,
    architecture: 'qwen2',
  },
];

export function catalogModel(id: string): CatalogModel | undefined {
  const key = id.trim().toLowerCase();
  return paperModels.find((model) => model.id === key);
}
