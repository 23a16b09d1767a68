// The cb_eval hook: llama.cpp's scheduler asks, node by node, whether we want to see a tensor,
// then hands it over once computed. We want the MLP output of every layer (the tensor name comes
// from src/core/sites.ts) and copy its rows into per-example buffers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ggml.h"

namespace icl {

// What one llama_decode call holds: tokens [start, start + count) of the window plan. Since the
// context runs with n_ubatch == n_batch and a unified KV cache, llama.cpp computes the chunk as a
// single micro-batch in batch order; rows of a captured tensor are either every token of the
// chunk or, in the last layer (pruned to outputs), every output token in order.
struct ChunkLayout {
    size_t start = 0;
    size_t count = 0;
    std::vector<size_t> outputTokens;  // window token indices marked as outputs, in batch order
    bool stopAfterLastLayer = false;   // skip the output norm and lm_head when no logits are needed
    bool capture = true;               // false: no span token here, so let the graph run unsplit
};

// Where a window token's MLP output goes: span index (or -1) and row within the span.
struct TokenRoute {
    int32_t span = -1;
    int32_t row = 0;
};

// Replaces one layer's captured output, on span tokens only, before the rest of the graph reads
// it: with zeros (zero ablation) or with a TopK SAE's reconstruction (the "loss recovered" check).
struct ActivationPatch {
    int layer = -1;
    bool zero = false;
    // The SAE (shapes as src/core/sae/topKSae.ts), applied to x · scale and undone by ÷ scale.
    float scale = 1.0f;
    int k = 0;
    int latents = 0;
    std::vector<float> encoder;         // [latents][width]
    std::vector<float> encoderBias;     // [latents]
    std::vector<float> decoderColumns;  // [latents][width]: latent i's direction contiguous
    std::vector<float> decoderBias;     // [width]
};

class ActivationTap {
public:
    ActivationTap(std::string tensorPrefix, int nLayer, int nEmbd);

    // The ggml_backend_sched_eval_callback; user_data is the ActivationTap.
    static bool callback(struct ggml_tensor * tensor, bool ask, void * userData);

    // routes: one per window token; buffers: per span, nLayer * spanLength * nEmbd floats.
    void beginChunk(const ChunkLayout & layout, const std::vector<TokenRoute> & routes,
                    std::vector<std::vector<float>> & spanBuffers, const std::vector<int32_t> & spanLengths);

    // Empty when the chunk was captured whole; otherwise what went wrong.
    std::string endChunk(const std::string & architecture);

    const std::string & tensorPrefix() const { return tensorPrefix_; }

    // Null: observe only.
    void setPatch(std::unique_ptr<ActivationPatch> patch) { patch_ = std::move(patch); }

private:
    bool wants(const struct ggml_tensor * tensor, int & layer) const;
    bool observe(struct ggml_tensor * tensor, int layer);
    void applyPatch(struct ggml_tensor * tensor, const char * base, size_t rows, bool allTokens);

    std::string tensorPrefix_;
    int nLayer_;
    int nEmbd_;

    const ChunkLayout * layout_ = nullptr;
    const std::vector<TokenRoute> * routes_ = nullptr;
    std::vector<std::vector<float>> * spanBuffers_ = nullptr;
    const std::vector<int32_t> * spanLengths_ = nullptr;

    std::vector<uint8_t> requested_;  // per layer: asked for in this chunk (first occurrence only)
    std::vector<uint8_t> captured_;
    std::vector<float> hostCopy_;     // staging for tensors that live in device memory
    std::string error_;
    std::unique_ptr<ActivationPatch> patch_;
    std::vector<float> patched_;
};

}  // namespace icl
