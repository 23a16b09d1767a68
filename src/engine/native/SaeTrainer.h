// A TopK sparse autoencoder (Gao et al., 2024) trained through ggml's optimiser, on the backend the
// engine runs the model on. ggml's top-k has no backward pass, so each step first runs the encoder
// forward, picks each token's k largest pre-activations on the host, and feeds their indices in:
// the training graph gathers those k activations and decoder columns (ggml_get_rows, whose
// backward scatters the gradient back), so the decoder costs k columns per token, not all of them.
// The gradient is the TopK gradient (zero for latents not kept). See src/core/sae/topKSae.ts for
// the shapes and the maths.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ggml-backend.h"
#include "ggml-opt.h"
#include "ggml.h"

namespace icl {

class SaeTrainer : public Napi::ObjectWrap<SaeTrainer> {
public:
    static Napi::Function define(Napi::Env env);
    static Napi::FunctionReference constructor;

    explicit SaeTrainer(const Napi::CallbackInfo & info);
    ~SaeTrainer() override;

private:
    Napi::Value step(const Napi::CallbackInfo & info);
    Napi::Value encode(const Napi::CallbackInfo & info);
    Napi::Value gradients(const Napi::CallbackInfo & info);
    Napi::Value weights(const Napi::CallbackInfo & info);
    Napi::Value setLearningRate(const Napi::CallbackInfo & info);
    Napi::Value info(const Napi::CallbackInfo & info);
    Napi::Value dispose(const Napi::CallbackInfo & info);

    void release();
    void checkBatch(const Napi::Env & env, const Napi::Float32Array & x) const;
    // Runs the encoder on the batch in inputX_ and leaves [latents × batch] pre-activations in pre_.
    void forward();
    // From pre_: the TopK indices, the auxiliary indices over dead latents and its target, into the input tensors.
    void setMasks(bool trackDeadLatents);
    // Host copies of W_dec and b_dec, which the auxiliary target and the renormalisation need.
    void pullDecoder();
    void renormaliseDecoder();
    Napi::Float32Array decoderOut(Napi::Env env, ggml_tensor * t) const;

    static ggml_opt_optimizer_params optimizerParams(void * userData);

    int width_ = 0;
    int latents_ = 0;
    int k_ = 0;
    int auxK_ = 0;
    float auxCoefficient_ = 0;
    int batch_ = 0;
    int64_t deadWindow_ = 0;
    bool forGradients_ = false;
    ggml_opt_optimizer_params optimizer_{};

    ggml_backend_t backend_ = nullptr;
    ggml_backend_t cpuBackend_ = nullptr;  // second backend for ops a GPU lacks; null on CPU
    std::string backendName_;
    ggml_backend_sched_t schedForward_ = nullptr;
    ggml_backend_sched_t schedTrain_ = nullptr;

    ggml_context * ctxParams_ = nullptr;   // parameters and inputs, allocated by us
    ggml_context * ctxResults_ = nullptr;  // outputs we read back, allocated by us
    ggml_context * ctxForward_ = nullptr;  // the encoder-only graph's intermediates
    ggml_context * ctxTrain_ = nullptr;    // the training graph's intermediates
    ggml_backend_buffer_t bufParams_ = nullptr;
    ggml_backend_buffer_t bufResults_ = nullptr;
    ggml_opt_context_t optForward_ = nullptr;
    ggml_opt_context_t optTrain_ = nullptr;

    ggml_tensor * encoder_ = nullptr;      // [width, latents]: row i (latent i) contiguous
    ggml_tensor * encoderBias_ = nullptr;  // [latents]
    ggml_tensor * decoder_ = nullptr;      // [width, latents]: latent i's direction contiguous
    ggml_tensor * decoderBias_ = nullptr;  // [width]
    ggml_tensor * inputX_ = nullptr;       // [width, batch]
    ggml_tensor * keptFlat_ = nullptr;     // I32 [k · batch]: token t's kept latent j as t · latents + j
    ggml_tensor * kept_ = nullptr;         // I32 [k · batch]: the kept latents j
    ggml_tensor * auxFlat_ = nullptr;      // I32 [auxK · batch], likewise for the auxiliary code
    ggml_tensor * aux_ = nullptr;          // I32 [auxK · batch]
    ggml_tensor * auxWeight_ = nullptr;    // [1, auxK · batch]: 1 for a dead latent taken, 0 for padding
    ggml_tensor * auxTarget_ = nullptr;    // [width, batch]
    ggml_tensor * preOut_ = nullptr;       // [latents, batch]
    ggml_tensor * mseOut_ = nullptr;       // scalar
    ggml_tensor * auxOut_ = nullptr;       // scalar

    std::vector<float> x_;          // the batch on the host
    std::vector<float> pre_;        // pre-activations
    std::vector<int32_t> keptFlatHost_;
    std::vector<int32_t> keptHost_;
    std::vector<int32_t> auxFlatHost_;
    std::vector<int32_t> auxHost_;
    std::vector<float> auxWeightHost_;
    std::vector<float> auxTargetHost_;
    std::vector<float> decoderBiasHost_;
    std::vector<float> decoderColumns_;  // [latents][width]: the decoder tensor's own layout
    std::vector<uint8_t> forcedDead_;    // gradients(): the dead set the caller fixed
    std::vector<float> forcedAuxTarget_; // gradients(): the auxiliary target the caller fixed
    std::vector<int64_t> lastFired_;  // per latent: tokens seen when it last fired (−1: never)
    int64_t tokensSeen_ = 0;
    int deadNow_ = 0;
};

}  // namespace icl
