// What quality estimation needs from a model, as plain texts: the engine process implements it
// (through EngineClient in the CLI and the extension, or ActivationEngine in-process in tests).

export interface TextScoringGroup {
  /** Text every query of the group follows (instruction and demonstrations); its KV cache is shared. */
  readonly prefix: string;
  /** Windows of its own, shared with no other group: the same layout for every group with the same queries (src/engine/scoringPlanner.ts). */
  readonly ownWindow?: boolean;
  readonly queries: readonly {
    readonly key: number;
    /** The query and the answer prefix, up to the answer slot. */
    readonly query: string;
    /** Candidate answers, as the model would continue the text. */
    readonly continuations: readonly string[];
  }[];
}

export interface TextScores {
  /** Per query key: each continuation's summed log-probability and token count. */
  readonly scores: ReadonlyMap<number, readonly { readonly logprob: number; readonly tokens: number }[]>;
  readonly evaluatedTokens: number;
  readonly minimumTokens: number;
}

export interface TextGenerationGroup {
  readonly prefix: string;
  readonly ownWindow?: boolean;
  readonly queries: readonly { readonly key: number; readonly query: string }[];
}

export interface PromptScorer {
  scoreTexts(groups: readonly TextScoringGroup[]): Promise<TextScores>;
  /** Greedy answers, cut at the first stop string or after maxTokens. */
  generateTexts(groups: readonly TextGenerationGroup[], maxTokens: number, stop: readonly string[]): Promise<ReadonlyMap<number, string>>;
}
