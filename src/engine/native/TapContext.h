// A llama.cpp context on a TapModel with the activation tap installed. Work arrives as windows:
// several sequences that fit the context together, decoded in chunks of n_batch tokens.
#pragma once

#include <napi.h>

#include <atomic>
#include <memory>
#include <string>

#include "ActivationTap.h"
#include "llama.h"

namespace icl {

class TapModel;

class TapContext : public Napi::ObjectWrap<TapContext> {
public:
    static Napi::Function define(Napi::Env env);
    static Napi::FunctionReference constructor;

    explicit TapContext(const Napi::CallbackInfo & info);
    ~TapContext() override;

    llama_context * context() const { return context_; }
    ActivationTap & tap() { return *tap_; }
    TapModel & model() { return *model_; }
    int nLayer() const { return nLayer_; }
    int nEmbd() const { return nEmbd_; }
    int nVocab() const { return nVocab_; }
    int nBatch() const { return nBatch_; }
    bool cancelled() const { return cancelled_.load(); }
    void setBusy(bool busy) { busy_ = busy; }

private:
    Napi::Value runWindow(const Napi::CallbackInfo & info);
    Napi::Value cancel(const Napi::CallbackInfo & info);
    Napi::Value setPatch(const Napi::CallbackInfo & info);
    Napi::Value info(const Napi::CallbackInfo & info);
    Napi::Value dispose(const Napi::CallbackInfo & info);

    void release();

    Napi::ObjectReference modelRef_;  // keeps the model alive while this context exists
    TapModel * model_ = nullptr;
    llama_context * context_ = nullptr;
    // Persistent CPU worker threads: the tap splits each decode into a sub-graph per layer, and
    // without a pool ggml would start and join its threads for every one of them.
    ggml_threadpool_t threadpool_ = nullptr;
    std::unique_ptr<ActivationTap> tap_;
    std::atomic<bool> cancelled_{false};
    bool busy_ = false;
    bool exact_ = false;
    int nLayer_ = 0;
    int nEmbd_ = 0;
    int nVocab_ = 0;
    int nBatch_ = 0;
    int nSeqMax_ = 0;
    int nThreads_ = 1;

public:
    int threads() const { return nThreads_; }
};

}  // namespace icl
