#include "TapContext.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <thread>
#include <vector>

#include "ActivationReducer.h"
#include "LlamaApi.h"
#include "TapModel.h"

namespace icl {

Napi::FunctionReference TapContext::constructor;

namespace {

uint32_t optionU32(const Napi::Object & options, const char * key, uint32_t fallback) {
    if (!options.Has(key) || options.Get(key).IsUndefined()) return fallback;
    return options.Get(key).As<Napi::Number>().Uint32Value();
}

template <typename T, typename Array>
std::vector<T> copyArray(const Napi::Object & plan, const char * key) {
    if (!plan.Has(key) || !plan.Get(key).IsTypedArray()) {
        throw Napi::TypeError::New(plan.Env(), std::string("window plan field ") + key + " must be a typed array");
    }
    Array array = plan.Get(key).As<Array>();
    return std::vector<T>(array.Data(), array.Data() + array.ElementLength());
}

// One window: flat arrays built by src/engine/windowPlanner.ts.
struct WindowPlan {
    std::vector<int32_t> tokens;
    std::vector<int32_t> positions;
    std::vector<int32_t> seqOffsets;  // CSR: sequence ids of token i are seqIds[seqOffsets[i] .. seqOffsets[i+1])
    std::vector<int32_t> seqIds;
    std::vector<int32_t> spanOf;      // span index of each token, -1 outside every span
    std::vector<int32_t> spanLengths;
    std::vector<uint8_t> keepRaw;     // per span: return its raw activations too
    std::vector<int32_t> logitsTokens;  // token indices whose next-token logits are returned
    // Scoring: log P(target | everything up to and including token) for each (token, target) pair.
    std::vector<int32_t> logprobTokens;
    std::vector<int32_t> logprobTargets;
    // Greedy decoding: the most likely next token after each of these token indices.
    std::vector<int32_t> argmaxTokens;
    // Continue the sequences already in the KV cache instead of starting afresh.
    bool continueSequences = false;
};

class RunWindowWorker : public Napi::AsyncWorker {
public:
    RunWindowWorker(Napi::Env env, TapContext * context, Napi::Object contextObject, WindowPlan plan)
        : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), context_(context),
          plan_(std::move(plan)) {
        contextRef_ = Napi::Persistent(contextObject);
    }

    Napi::Promise promise() { return deferred_.Promise(); }

    void Execute() override {
        try {
            run();
        } catch (const std::exception & e) {
            SetError(e.what());
        }
    }

    void OnOK() override {
        context_->setBusy(false);
        Napi::Env env = Env();
        Napi::Object out = Napi::Object::New(env);
        Napi::Float64Array stats = Napi::Float64Array::New(env, stats_.size());
        std::memcpy(stats.Data(), stats_.data(), stats_.size() * sizeof(double));
        out.Set("stats", stats);
        Napi::Array raw = Napi::Array::New(env, spanBuffers_.size());
        for (size_t s = 0; s < spanBuffers_.size(); s++) {
            if (plan_.keepRaw[s] && !spanBuffers_[s].empty()) {
                Napi::Float32Array values = Napi::Float32Array::New(env, spanBuffers_[s].size());
                std::memcpy(values.Data(), spanBuffers_[s].data(), spanBuffers_[s].size() * sizeof(float));
                raw.Set(uint32_t(s), values);
            } else {
                raw.Set(uint32_t(s), env.Null());
            }
        }
        out.Set("raw", raw);
        Napi::Float32Array logits = Napi::Float32Array::New(env, logits_.size());
        if (!logits_.empty()) std::memcpy(logits.Data(), logits_.data(), logits_.size() * sizeof(float));
        out.Set("logits", logits);
        Napi::Float64Array logprobs = Napi::Float64Array::New(env, logprobs_.size());
        if (!logprobs_.empty()) std::memcpy(logprobs.Data(), logprobs_.data(), logprobs_.size() * sizeof(double));
        out.Set("logprobs", logprobs);
        Napi::Int32Array argmax = Napi::Int32Array::New(env, argmax_.size());
        if (!argmax_.empty()) std::memcpy(argmax.Data(), argmax_.data(), argmax_.size() * sizeof(int32_t));
        out.Set("argmax", argmax);
        out.Set("chunks", chunks_);
        out.Set("decodeMs", decodeMs_);
        out.Set("reduceMs", reduceMs_);
        deferred_.Resolve(out);
    }

    void OnError(const Napi::Error & error) override {
        context_->setBusy(false);
        deferred_.Reject(error.Value());
    }

private:
    using Clock = std::chrono::steady_clock;

    void run() {
        const auto & api = llamaApi();
        const size_t n = plan_.tokens.size();
        const size_t nSpans = plan_.spanLengths.size();
        const int nLayer = context_->nLayer();
        const int nEmbd = context_->nEmbd();
        const int nVocab = context_->nVocab();
        const size_t statsPerSpan = size_t(nLayer) * kPoolingCount * kStatisticCount;
        stats_.assign(nSpans * statsPerSpan, 0.0);
        spanBuffers_.assign(nSpans, {});
        logits_.assign(plan_.logitsTokens.size() * size_t(nVocab), 0.0f);

        // Route every token to its span row; spans end when their last token has been decoded.
        std::vector<TokenRoute> routes(n);
        std::vector<int32_t> filled(nSpans, 0);
        std::vector<size_t> spanEnd(nSpans, 0);
        // Per window token, the requests answered from its logits row (indices into each list).
        std::vector<uint8_t> wantsLogits(n, 0);
        auto requestsByToken = [&](const std::vector<int32_t> & requestTokens) {
            std::vector<std::vector<size_t>> byToken(n);
            for (size_t r = 0; r < requestTokens.size(); r++) {
                wantsLogits[size_t(requestTokens[r])] = 1;
                byToken[size_t(requestTokens[r])].push_back(r);
            }
            return byToken;
        };
        const auto logitsRowsOf = requestsByToken(plan_.logitsTokens);
        const auto logprobsOf = requestsByToken(plan_.logprobTokens);
        const auto argmaxOf = requestsByToken(plan_.argmaxTokens);
        logprobs_.assign(plan_.logprobTokens.size(), 0.0);
        argmax_.assign(plan_.argmaxTokens.size(), -1);
        for (size_t i = 0; i < n; i++) {
            const int32_t s = plan_.spanOf[i];
            if (s < 0) continue;
            routes[i] = TokenRoute{s, filled[size_t(s)]++};
            spanEnd[size_t(s)] = i + 1;
        }
        for (size_t s = 0; s < nSpans; s++) {
            if (filled[s] != plan_.spanLengths[s]) throw std::runtime_error("window plan: span lengths disagree with spanOf");
        }

        llama_context * ctx = context_->context();
        // Metadata only: emptied cells are masked out, so zeroing gigabytes of KV cache is wasted work.
        if (!plan_.continueSequences) api.memory_clear(api.get_memory(ctx), false);

        const size_t nBatch = size_t(context_->nBatch());
        std::vector<llama_seq_id *> seqPointers(nBatch);
        std::vector<int32_t> nSeq(nBatch);
        std::vector<int8_t> outputs(nBatch);
        size_t nextSpanToReduce = 0;
        std::vector<size_t> spanOrder(nSpans);
        for (size_t s = 0; s < nSpans; s++) spanOrder[s] = s;
        std::sort(spanOrder.begin(), spanOrder.end(), [&](size_t a, size_t b) { return spanEnd[a] < spanEnd[b]; });

        for (size_t start = 0; start < n; start += nBatch) {
            if (context_->cancelled()) throw std::runtime_error("cancelled");
            const size_t count = std::min(nBatch, n - start);
            ChunkLayout layout;
            layout.start = start;
            layout.count = count;
            bool chunkNeedsLogits = false;
            bool chunkHasSpans = false;
            for (size_t i = 0; i < count; i++) {
                const size_t t = start + i;
                const int32_t s = plan_.spanOf[t];
                if (s >= 0 && spanBuffers_[size_t(s)].empty()) {
                    spanBuffers_[size_t(s)].assign(size_t(nLayer) * size_t(plan_.spanLengths[size_t(s)]) * nEmbd, 0.0f);
                }
                if (s >= 0) chunkHasSpans = true;
                outputs[i] = (s >= 0 || wantsLogits[t]) ? 1 : 0;
                if (outputs[i]) layout.outputTokens.push_back(t);
                if (wantsLogits[t]) chunkNeedsLogits = true;
                seqPointers[i] = plan_.seqIds.data() + plan_.seqOffsets[t];
                nSeq[i] = plan_.seqOffsets[t + 1] - plan_.seqOffsets[t];
            }
            layout.stopAfterLastLayer = !chunkNeedsLogits;
            layout.capture = chunkHasSpans;

            llama_batch batch{};
            batch.n_tokens = int32_t(count);
            batch.token = plan_.tokens.data() + start;
            batch.pos = plan_.positions.data() + start;
            batch.n_seq_id = nSeq.data();
            batch.seq_id = seqPointers.data();
            batch.logits = outputs.data();

            context_->tap().beginChunk(layout, routes, spanBuffers_, plan_.spanLengths);
            const auto decodeStart = Clock::now();
            const int32_t rc = api.decode(ctx, batch);
            api.synchronize(ctx);
            decodeMs_ += std::chrono::duration<double, std::milli>(Clock::now() - decodeStart).count();
            const std::string tapError = context_->tap().endChunk(context_->model().architecture());
            if (rc == 2 || context_->cancelled()) throw std::runtime_error("cancelled");
            if (rc != 0) {
                throw std::runtime_error("llama_decode failed with code " + std::to_string(rc) +
                                         (rc == 1 ? " (no room in the KV cache for this window)" : ""));
            }
            if (!tapError.empty()) throw std::runtime_error(tapError);
            chunks_++;

            for (size_t i = 0; i < count; i++) {
                const size_t t = start + i;
                if (!wantsLogits[t]) continue;
                const float * row = api.get_logits_ith(ctx, int32_t(i));
                if (!row) throw std::runtime_error("no logits for token " + std::to_string(t));
                for (size_t r : logitsRowsOf[t]) {
                    std::memcpy(logits_.data() + r * size_t(nVocab), row, sizeof(float) * size_t(nVocab));
                }
                if (!argmaxOf[t].empty()) {
                    const int32_t best = int32_t(std::max_element(row, row + nVocab) - row);
                    for (size_t r : argmaxOf[t]) argmax_[r] = best;
                }
                if (logprobsOf[t].empty()) continue;
                // log-softmax in float64, once per row however many targets share it.
                float maxLogit = row[0];
                for (int v = 1; v < nVocab; v++) maxLogit = std::max(maxLogit, row[v]);
                double sumExp = 0.0;
                for (int v = 0; v < nVocab; v++) sumExp += std::exp(double(row[v]) - double(maxLogit));
                const double logSumExp = double(maxLogit) + std::log(sumExp);
                for (size_t r : logprobsOf[t]) logprobs_[r] = double(row[plan_.logprobTargets[r]]) - logSumExp;
            }

            // Reduce every span that is now complete and free what is not asked for raw.
            const auto reduceStart = Clock::now();
            std::vector<size_t> complete;
            while (nextSpanToReduce < nSpans && spanEnd[spanOrder[nextSpanToReduce]] <= start + count) {
                complete.push_back(spanOrder[nextSpanToReduce++]);
            }
            reduceSpans(complete, statsPerSpan);
            for (size_t s : complete) {
                if (!plan_.keepRaw[s]) std::vector<float>().swap(spanBuffers_[s]);
            }
            reduceMs_ += std::chrono::duration<double, std::milli>(Clock::now() - reduceStart).count();
        }
    }

    // The decoder's cores are idle between decodes: spread the (span, layer) reductions over them.
    void reduceSpans(const std::vector<size_t> & spans, size_t statsPerSpan) {
        const int nLayer = context_->nLayer();
        const size_t nEmbd = size_t(context_->nEmbd());
        const size_t jobs = spans.size() * size_t(nLayer);
        std::atomic<size_t> next{0};
        auto work = [&]() {
            ActivationReducer reducer;
            for (size_t job = next++; job < jobs; job = next++) {
                const size_t s = spans[job / size_t(nLayer)];
                const size_t l = job % size_t(nLayer);
                const size_t length = size_t(plan_.spanLengths[s]);
                reducer.reduce(spanBuffers_[s].data() + l * length * nEmbd, length, nEmbd,
                               stats_.data() + s * statsPerSpan + l * kPoolingCount * kStatisticCount);
            }
        };
        const size_t workers = std::min(jobs, size_t(context_->threads()));
        std::vector<std::thread> helpers;
        for (size_t w = 1; w < workers; w++) helpers.emplace_back(work);
        work();
        for (auto & helper : helpers) helper.join();
    }

    Napi::Promise::Deferred deferred_;
    TapContext * context_;
    Napi::ObjectReference contextRef_;
    WindowPlan plan_;
    std::vector<double> stats_;
    std::vector<std::vector<float>> spanBuffers_;
    std::vector<float> logits_;
    std::vector<double> logprobs_;
    std::vector<int32_t> argmax_;
    int32_t chunks_ = 0;
    double decodeMs_ = 0.0;
    double reduceMs_ = 0.0;
};

bool abortWhenCancelled(void * data) { return static_cast<TapContext *>(data)->cancelled(); }

}  // namespace

Napi::Function TapContext::define(Napi::Env env) {
    Napi::Function cls = DefineClass(env, "TapContext",
                                     {
                                         InstanceMethod("runWindow", &TapContext::runWindow),
                                         InstanceMethod("cancel", &TapContext::cancel),
                                         InstanceMethod("setPatch", &TapContext::setPatch),
                                         InstanceMethod("info", &TapContext::info),
                                         InstanceMethod("dispose", &TapContext::dispose),
                                     });
    constructor = Napi::Persistent(cls);
    constructor.SuppressDestruct();
    return cls;
}

TapContext::TapContext(const Napi::CallbackInfo & info) : Napi::ObjectWrap<TapContext>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "use model.createContext(options)");
    Napi::Object modelObject = info[0].As<Napi::Object>();
    model_ = Napi::ObjectWrap<TapModel>::Unwrap(modelObject);
    modelRef_ = Napi::Persistent(modelObject);
    Napi::Object options = info.Length() > 1 && info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);

    const auto & api = llamaApi();
    llama_model * model = model_->model();
    nLayer_ = api.model_n_layer(model);
    nEmbd_ = api.model_n_embd(model);
    nVocab_ = api.vocab_n_tokens(api.model_get_vocab(model));
    exact_ = options.Has("exact") && options.Get("exact").ToBoolean().Value();
    const std::string prefix =
        options.Has("tensorPrefix") ? options.Get("tensorPrefix").As<Napi::String>().Utf8Value() : std::string("ffn_out");
    tap_ = std::make_unique<ActivationTap>(prefix, nLayer_, nEmbd_);

    llama_context_params params = api.context_default_params();
    params.n_ctx = optionU32(options, "contextSize", 4096);
    nBatch_ = int(optionU32(options, "batchSize", 512));
    // One micro-batch per decode, so captured rows follow batch order (see ActivationTap.h).
    params.n_batch = uint32_t(nBatch_);
    params.n_ubatch = uint32_t(nBatch_);
    nSeqMax_ = int(optionU32(options, "maxSequences", 64));
    params.n_seq_max = uint32_t(nSeqMax_);
    // llama.cpp reserves outputs for at least one per sequence (and asserts it fits).
    params.n_outputs_max = uint32_t(std::max(nBatch_, nSeqMax_));
    const uint32_t threads = optionU32(options, "threads", 0);
    if (threads > 0) {
        params.n_threads = int32_t(threads);
        params.n_threads_batch = int32_t(threads);
    }
    nThreads_ = std::max(1, int(params.n_threads_batch));
    // Unified KV cache: shared-prefix tokens are stored once for every sequence that sees them,
    // and llama.cpp keeps the rows of a batch in batch order.
    params.kv_unified = true;
    params.embeddings = false;
    params.no_perf = true;
    if (exact_) {
        params.type_k = GGML_TYPE_F32;
        params.type_v = GGML_TYPE_F32;
        params.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    } else {
        params.type_k = GGML_TYPE_F16;
        params.type_v = GGML_TYPE_F16;
        params.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_AUTO;
    }
    params.cb_eval = &ActivationTap::callback;
    params.cb_eval_user_data = tap_.get();
    context_ = api.init_from_model(model, params);
    if (!context_) {
        throw Napi::Error::New(env, "llama.cpp could not create a context of " + std::to_string(params.n_ctx) +
                                        " tokens (out of memory?)");
    }
    api.set_abort_callback(context_, &abortWhenCancelled, this);
    model_->openContexts++;

    const CpuThreadpoolApi pool = cpuThreadpoolApi();
    if (pool.create) {
        ggml_threadpool_params poolParams = api.threadpool_params_default(nThreads_);
        poolParams.poll = 0;  // sleep between graphs: spinning workers would slow our reductions
        threadpool_ = pool.create(&poolParams);
        if (threadpool_) api.attach_threadpool(context_, threadpool_, threadpool_);
    }
}

TapContext::~TapContext() { release(); }

void TapContext::release() {
    if (context_) {
        llamaApi().free_context(context_);
        context_ = nullptr;
        model_->openContexts--;
    }
    if (threadpool_) {
        cpuThreadpoolApi().destroy(threadpool_);
        threadpool_ = nullptr;
    }
    if (!modelRef_.IsEmpty()) modelRef_.Reset();
}

Napi::Value TapContext::runWindow(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!context_) throw Napi::Error::New(env, "the context was disposed");
    if (busy_) throw Napi::Error::New(env, "the context is already running a window");
    if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "runWindow(plan)");
    Napi::Object planObject = info[0].As<Napi::Object>();
    WindowPlan plan;
    plan.tokens = copyArray<int32_t, Napi::Int32Array>(planObject, "tokens");
    plan.positions = copyArray<int32_t, Napi::Int32Array>(planObject, "positions");
    plan.seqOffsets = copyArray<int32_t, Napi::Int32Array>(planObject, "seqOffsets");
    plan.seqIds = copyArray<int32_t, Napi::Int32Array>(planObject, "seqIds");
    plan.spanOf = copyArray<int32_t, Napi::Int32Array>(planObject, "spanOf");
    plan.spanLengths = copyArray<int32_t, Napi::Int32Array>(planObject, "spanLengths");
    plan.keepRaw = copyArray<uint8_t, Napi::Uint8Array>(planObject, "keepRaw");
    plan.logitsTokens = copyArray<int32_t, Napi::Int32Array>(planObject, "logitsTokens");
    if (planObject.Has("argmaxTokens")) plan.argmaxTokens = copyArray<int32_t, Napi::Int32Array>(planObject, "argmaxTokens");
    plan.continueSequences = planObject.Has("continueSequences") && planObject.Get("continueSequences").ToBoolean().Value();
    if (planObject.Has("logprobTokens")) {
        plan.logprobTokens = copyArray<int32_t, Napi::Int32Array>(planObject, "logprobTokens");
        plan.logprobTargets = copyArray<int32_t, Napi::Int32Array>(planObject, "logprobTargets");
    }

    // Validate here, where a bad plan is a TypeError instead of a crash in llama.cpp.
    const size_t n = plan.tokens.size();
    const uint32_t nCtx = llamaApi().n_ctx(context_);
    if (n == 0) throw Napi::RangeError::New(env, "window plan has no tokens");
    if (n > nCtx) throw Napi::RangeError::New(env, "window of " + std::to_string(n) + " tokens exceeds the context of " + std::to_string(nCtx));
    if (plan.positions.size() != n || plan.spanOf.size() != n || plan.seqOffsets.size() != n + 1 ||
        plan.keepRaw.size() != plan.spanLengths.size() || plan.seqOffsets.back() != int32_t(plan.seqIds.size())) {
        throw Napi::RangeError::New(env, "window plan arrays have inconsistent lengths");
    }
    for (size_t i = 0; i < n; i++) {
        if (plan.seqOffsets[i + 1] <= plan.seqOffsets[i]) throw Napi::RangeError::New(env, "token " + std::to_string(i) + " has no sequence id");
        if (plan.spanOf[i] >= int32_t(plan.spanLengths.size())) throw Napi::RangeError::New(env, "span index out of range");
    }
    for (int32_t id : plan.seqIds) {
        if (id < 0 || id >= nSeqMax_) throw Napi::RangeError::New(env, "sequence id " + std::to_string(id) + " outside [0, " + std::to_string(nSeqMax_) + ")");
    }
    for (int32_t t : plan.logitsTokens) {
        if (t < 0 || size_t(t) >= n) throw Napi::RangeError::New(env, "logits token index out of range");
    }
    for (int32_t t : plan.argmaxTokens) {
        if (t < 0 || size_t(t) >= n) throw Napi::RangeError::New(env, "argmax token index out of range");
    }
    if (plan.logprobTargets.size() != plan.logprobTokens.size()) throw Napi::RangeError::New(env, "logprobTokens and logprobTargets differ in length");
    for (size_t r = 0; r < plan.logprobTokens.size(); r++) {
        if (plan.logprobTokens[r] < 0 || size_t(plan.logprobTokens[r]) >= n) throw Napi::RangeError::New(env, "logprob token index out of range");
        if (plan.logprobTargets[r] < 0 || plan.logprobTargets[r] >= nVocab_) throw Napi::RangeError::New(env, "logprob target outside the vocabulary");
    }

    cancelled_ = false;
    busy_ = true;
    auto * worker = new RunWindowWorker(env, this, Value(), std::move(plan));
    Napi::Promise promise = worker->promise();
    worker->Queue();
    return promise;
}

// setPatch(null | { layer, zero } | { layer, scale, k, latents, encoder, encoderBias, decoder,
// decoderBias }): what the next windows write over the site's output at `layer` on span tokens.
Napi::Value TapContext::setPatch(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (busy_) throw Napi::Error::New(env, "a window is running on this context");
    if (info.Length() == 0 || info[0].IsNull() || info[0].IsUndefined()) {
        tap_->setPatch(nullptr);
        return env.Undefined();
    }
    const Napi::Object o = info[0].As<Napi::Object>();
    auto patch = std::make_unique<ActivationPatch>();
    patch->layer = o.Get("layer").As<Napi::Number>().Int32Value();
    if (patch->layer < 0 || patch->layer >= nLayer_) throw Napi::RangeError::New(env, "setPatch: layer out of range");
    patch->zero = o.Get("zero").ToBoolean().Value();
    if (!patch->zero) {
        patch->scale = o.Get("scale").As<Napi::Number>().FloatValue();
        patch->k = o.Get("k").As<Napi::Number>().Int32Value();
        patch->latents = o.Get("latents").As<Napi::Number>().Int32Value();
        auto take = [&](const char * key, size_t expected) {
            Napi::Float32Array a = o.Get(key).As<Napi::Float32Array>();
            if (a.ElementLength() != expected) throw Napi::RangeError::New(env, std::string("setPatch: ") + key + " has the wrong length");
            return std::vector<float>(a.Data(), a.Data() + a.ElementLength());
        };
        const size_t w = size_t(nEmbd_), l = size_t(patch->latents);
        if (patch->k < 1 || patch->latents < patch->k || !(patch->scale > 0)) throw Napi::RangeError::New(env, "setPatch: bad k, latents or scale");
        patch->encoder = take("encoder", l * w);
        patch->encoderBias = take("encoderBias", l);
        const std::vector<float> decoder = take("decoder", w * l);  // [width][latents]
        patch->decoderColumns.resize(l * w);
        for (size_t d = 0; d < w; d++) for (size_t i = 0; i < l; i++) patch->decoderColumns[i * w + d] = decoder[d * l + i];
        patch->decoderBias = take("decoderBias", w);
    }
    tap_->setPatch(std::move(patch));
    return env.Undefined();
}

Napi::Value TapContext::cancel(const Napi::CallbackInfo & info) {
    cancelled_ = true;
    return info.Env().Undefined();
}

Napi::Value TapContext::info(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Napi::Object out = Napi::Object::New(env);
    out.Set("contextSize", context_ ? llamaApi().n_ctx(context_) : 0);
    out.Set("batchSize", nBatch_);
    out.Set("maxSequences", nSeqMax_);
    out.Set("exact", exact_);
    out.Set("tensorPrefix", tap_->tensorPrefix());
    return out;
}

Napi::Value TapContext::dispose(const Napi::CallbackInfo & info) {
    if (busy_) throw Napi::Error::New(info.Env(), "cannot dispose a context while a window is running");
    release();
    return info.Env().Undefined();
}

}  // namespace icl
