#include "SaeTrainer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <stdexcept>
#include <string>

#include "LlamaApi.h"
#include "SparseCode.h"

namespace icl {

Napi::FunctionReference SaeTrainer::constructor;

namespace {

// Metadata room for a context that holds a few tensors plus ggml_opt's graphs (forward, gradient
// and optimiser copies of a graph of GGML_DEFAULT_GRAPH_SIZE nodes).
constexpr size_t kGraphContextBytes = size_t(32) << 20;

int intOption(const Napi::Object & o, const char * name, int fallback = -1) {
    const Napi::Value v = o.Get(name);
    if (v.IsUndefined()) {
        if (fallback >= 0) return fallback;
        throw std::runtime_error(std::string("SaeTrainer: option ") + name + " is required");
    }
    return v.As<Napi::Number>().Int32Value();
}

double numberOption(const Napi::Object & o, const char * name, double fallback) {
    const Napi::Value v = o.Get(name);
    return v.IsUndefined() ? fallback : v.As<Napi::Number>().DoubleValue();
}

Napi::Float32Array copyOut(Napi::Env env, const std::vector<float> & values) {
    Napi::Float32Array out = Napi::Float32Array::New(env, values.size());
    std::memcpy(out.Data(), values.data(), values.size() * sizeof(float));
    return out;
}

// ggml_nelements without linking ggml (we only reach it through LlamaApi).
int64_t elements(const ggml_tensor * t) { return t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3]; }

Napi::Float32Array tensorOut(Napi::Env env, ggml_tensor * t) {
    const size_t n = size_t(elements(t));
    Napi::Float32Array out = Napi::Float32Array::New(env, n);
    llamaApi().backend_tensor_get(t, out.Data(), 0, n * sizeof(float));
    return out;
}

// [rows × columns] row-major → [columns × rows] row-major.
std::vector<float> transposed(const float * values, int rows, int columns) {
    std::vector<float> out(size_t(rows) * columns);
    for (int r = 0; r < rows; r++) for (int c = 0; c < columns; c++) out[size_t(c) * rows + r] = values[size_t(r) * columns + c];
    return out;
}

Napi::Float32Array arrayOut(Napi::Env env, const std::vector<float> & values) {
    Napi::Float32Array out = Napi::Float32Array::New(env, values.size());
    std::memcpy(out.Data(), values.data(), values.size() * sizeof(float));
    return out;
}

}  // namespace

Napi::Function SaeTrainer::define(Napi::Env env) {
    Napi::Function fn = DefineClass(env, "SaeTrainer",
                                    {
                                        InstanceMethod("step", &SaeTrainer::step),
                                        InstanceMethod("encode", &SaeTrainer::encode),
                                        InstanceMethod("gradients", &SaeTrainer::gradients),
                                        InstanceMethod("weights", &SaeTrainer::weights),
                                        InstanceMethod("setLearningRate", &SaeTrainer::setLearningRate),
                                        InstanceMethod("info", &SaeTrainer::info),
                                        InstanceMethod("dispose", &SaeTrainer::dispose),
                                    });
    constructor = Napi::Persistent(fn);
    constructor.SuppressDestruct();
    return fn;
}

SaeTrainer::SaeTrainer(const Napi::CallbackInfo & info) : Napi::ObjectWrap<SaeTrainer>(info) {
    Napi::Env env = info.Env();
    try {
        const LlamaApi & api = llamaApi();
        const Napi::Object o = info[0].As<Napi::Object>();
        width_ = intOption(o, "width");
        latents_ = intOption(o, "latents");
        k_ = intOption(o, "k");
        auxK_ = intOption(o, "auxK", 0);
        auxCoefficient_ = float(numberOption(o, "auxCoefficient", 0));
        batch_ = intOption(o, "batchSize");
        deadWindow_ = int64_t(numberOption(o, "deadWindowTokens", 0));
        forGradients_ = o.Get("forGradients").ToBoolean().Value();
        const int threads = intOption(o, "threads", 0);
        const bool gpu = o.Get("gpu").ToBoolean().Value();
        if (width_ < 1 || latents_ < 1 || batch_ < 1 || k_ < 1 || k_ > latents_ || auxK_ < 0 || auxK_ > latents_) {
            throw std::runtime_error("SaeTrainer: width, latents and batchSize must be positive, 1 <= k <= latents, 0 <= auxK <= latents");
        }
        optimizer_.adamw.alpha = float(numberOption(o, "learningRate", 1e-3));
        optimizer_.adamw.beta1 = float(numberOption(o, "beta1", 0.9));
        optimizer_.adamw.beta2 = float(numberOption(o, "beta2", 0.999));
        optimizer_.adamw.eps = float(numberOption(o, "eps", 1e-8));
        optimizer_.adamw.wd = 0.0f;
        optimizer_.sgd.alpha = optimizer_.adamw.alpha;
        optimizer_.sgd.wd = 0.0f;

        // The backend: the GPU where one is registered and asked for, else the CPU.
        ggml_backend_dev_t cpuDev = api.backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
        if (!cpuDev) throw std::runtime_error("SaeTrainer: ggml has no CPU backend registered");
        ggml_backend_dev_t gpuDev = gpu ? api.backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_GPU) : nullptr;
        if (gpuDev) {
            backend_ = api.backend_dev_init(gpuDev, nullptr);
            cpuBackend_ = api.backend_dev_init(cpuDev, nullptr);
        } else {
            backend_ = api.backend_dev_init(cpuDev, nullptr);
        }
        if (!backend_) throw std::runtime_error("SaeTrainer: cannot start a ggml backend");
        backendName_ = api.backend_name(backend_);
        ggml_backend_t cpu = cpuBackend_ ? cpuBackend_ : backend_;
        if (threads > 0) {
            auto setThreads = reinterpret_cast<void (*)(ggml_backend_t, int)>(
                api.backend_reg_get_proc_address(api.backend_dev_backend_reg(cpuDev), "ggml_backend_set_n_threads"));
            if (setThreads) setThreads(cpu, threads);
        }
        ggml_backend_t backends[2] = {backend_, cpuBackend_};
        const int nBackends = cpuBackend_ ? 2 : 1;
        schedForward_ = api.backend_sched_new(backends, nullptr, nBackends, GGML_DEFAULT_GRAPH_SIZE, false, false);
        schedTrain_ = api.backend_sched_new(backends, nullptr, nBackends, GGML_DEFAULT_GRAPH_SIZE, false, false);

        // Parameters and inputs: ours to allocate and fill.
        ctxParams_ = api.init({16 * api.tensor_overhead(), nullptr, true});
        encoder_ = api.new_tensor_2d(ctxParams_, GGML_TYPE_F32, width_, latents_);
        encoderBias_ = api.new_tensor_1d(ctxParams_, GGML_TYPE_F32, latents_);
        decoder_ = api.new_tensor_2d(ctxParams_, GGML_TYPE_F32, width_, latents_);
        decoderBias_ = api.new_tensor_1d(ctxParams_, GGML_TYPE_F32, width_);
        for (ggml_tensor * p : {encoder_, encoderBias_, decoder_, decoderBias_}) api.set_param(p);
        const bool withAux = auxK_ > 0 && auxCoefficient_ > 0;
        const int auxSlots = withAux ? auxK_ : 1;
        inputX_ = api.new_tensor_2d(ctxParams_, GGML_TYPE_F32, width_, batch_);
        keptFlat_ = api.new_tensor_1d(ctxParams_, GGML_TYPE_I32, int64_t(k_) * batch_);
        kept_ = api.new_tensor_1d(ctxParams_, GGML_TYPE_I32, int64_t(k_) * batch_);
        auxFlat_ = api.new_tensor_1d(ctxParams_, GGML_TYPE_I32, int64_t(auxSlots) * batch_);
        aux_ = api.new_tensor_1d(ctxParams_, GGML_TYPE_I32, int64_t(auxSlots) * batch_);
        auxWeight_ = api.new_tensor_2d(ctxParams_, GGML_TYPE_F32, 1, int64_t(auxSlots) * batch_);
        auxTarget_ = api.new_tensor_2d(ctxParams_, GGML_TYPE_F32, width_, batch_);
        for (ggml_tensor * t : {inputX_, keptFlat_, kept_, auxFlat_, aux_, auxWeight_, auxTarget_}) api.set_input(t);
        ctxResults_ = api.init({16 * api.tensor_overhead(), nullptr, true});

        // pre = W_enc (x − b_dec) + b_enc, with W_enc b_dec taken as a bias so the input itself
        // needs no gradient.
        auto preActivations = [&](ggml_context * c, ggml_context * out) {
            ggml_tensor * bias = api.add(c, encoderBias_, api.scale(c, api.mul_mat(c, encoder_, decoderBias_), -1.0f));
            return api.add(out, api.mul_mat(c, encoder_, inputX_), bias);
        };
        // Σ over each token's `slots` gathered latents of value × decoder column: [width, batch].
        auto sparseDecode = [&](ggml_context * c, ggml_tensor * values, ggml_tensor * latents, int slots) {
            ggml_tensor * columns = api.get_rows(c, decoder_, latents);  // [width, slots · batch]
            ggml_tensor * weighted = api.mul(c, columns, values);       // values [1, slots · batch] broadcast
            ggml_tensor * perToken = api.reshape_3d(c, weighted, width_, slots, batch_);
            ggml_tensor * slotsFirst = api.cont(c, api.permute(c, perToken, 1, 0, 2, 3));  // [slots, width, batch]
            return api.reshape_2d(c, api.sum_rows(c, slotsFirst), width_, batch_);
        };

        ctxForward_ = api.init({kGraphContextBytes, nullptr, true});
        preOut_ = preActivations(ctxForward_, ctxResults_);

        // The training loss: ‖x − x̂‖² / (batch · width) + auxCoefficient · ‖e − ê‖² / (batch · width).
        ctxTrain_ = api.init({kGraphContextBytes, nullptr, true});
        ggml_tensor * total = nullptr;
        {
            ggml_context * c = ctxTrain_;
            const float perValue = 1.0f / (float(batch_) * float(width_));
            ggml_tensor * active = api.relu(c, preActivations(c, c));
            ggml_tensor * flat = api.reshape_2d(c, active, 1, int64_t(latents_) * batch_);
            ggml_tensor * values = api.get_rows(c, flat, keptFlat_);  // [1, k · batch]
            ggml_tensor * reconstruction = api.add(c, sparseDecode(c, values, kept_, k_), decoderBias_);
            ggml_tensor * error = api.sub(c, inputX_, reconstruction);
            mseOut_ = api.scale(ctxResults_, api.sum(c, api.sqr(c, error)), perValue);
            total = mseOut_;
            if (withAux) {
                ggml_tensor * auxValues = api.mul(c, api.get_rows(c, flat, auxFlat_), auxWeight_);
                ggml_tensor * auxError = api.sub(c, auxTarget_, sparseDecode(c, auxValues, aux_, auxK_));
                auxOut_ = api.scale(ctxResults_, api.sum(c, api.sqr(c, auxError)), auxCoefficient_ * perValue);
                total = api.add(c, mseOut_, auxOut_);
            }
        }
        bufParams_ = api.backend_alloc_ctx_tensors(ctxParams_, backend_);
        bufResults_ = api.backend_alloc_ctx_tensors(ctxResults_, backend_);
        if (!bufParams_ || !bufResults_) throw std::runtime_error("SaeTrainer: cannot allocate the autoencoder's tensors");

        ggml_opt_params forward = api.opt_default_params(schedForward_, GGML_OPT_LOSS_TYPE_SUM);
        forward.ctx_compute = ctxForward_;
        forward.inputs = inputX_;
        forward.outputs = preOut_;
        forward.build_type = GGML_OPT_BUILD_TYPE_FORWARD;
        optForward_ = api.opt_init(forward);

        ggml_opt_params train = api.opt_default_params(schedTrain_, GGML_OPT_LOSS_TYPE_SUM);
        train.ctx_compute = ctxTrain_;
        train.inputs = inputX_;
        train.outputs = total;
        train.build_type = GGML_OPT_BUILD_TYPE_OPT;
        // Two accumulation steps keep the gradients in readable accumulators, and the first of
        // them computes gradients without an optimiser step: what the gradient check needs.
        train.opt_period = forGradients_ ? 2 : 1;
        train.get_opt_pars = &SaeTrainer::optimizerParams;
        train.get_opt_pars_ud = this;
        train.optimizer = GGML_OPT_OPTIMIZER_TYPE_ADAMW;
        optTrain_ = api.opt_init(train);

        // Initial weights, from the caller (seeded there).
        const char * names[4] = {"encoder", "encoderBias", "decoder", "decoderBias"};
        ggml_tensor * tensors[4] = {encoder_, encoderBias_, decoder_, decoderBias_};
        for (int i = 0; i < 4; i++) {
            Napi::Float32Array w = o.Get(names[i]).As<Napi::Float32Array>();
            if (int64_t(w.ElementLength()) != elements(tensors[i])) {
                throw std::runtime_error(std::string("SaeTrainer: ") + names[i] + " holds " + std::to_string(w.ElementLength()) +
                                         " values, expected " + std::to_string(elements(tensors[i])));
            }
            if (tensors[i] == decoder_) {
                // The caller's decoder is [width × latents] (column i is latent i); ours is its transpose.
                const std::vector<float> columns = transposed(w.Data(), width_, latents_);
                api.backend_tensor_set(decoder_, columns.data(), 0, columns.size() * sizeof(float));
            } else {
                api.backend_tensor_set(tensors[i], w.Data(), 0, w.ElementLength() * sizeof(float));
            }
        }
        x_.assign(size_t(width_) * batch_, 0.0f);
        pre_.assign(size_t(latents_) * batch_, 0.0f);
        keptFlatHost_.assign(size_t(k_) * batch_, 0);
        keptHost_.assign(size_t(k_) * batch_, 0);
        auxFlatHost_.assign(size_t(auxSlots) * batch_, 0);
        auxHost_.assign(size_t(auxSlots) * batch_, 0);
        auxWeightHost_.assign(size_t(auxSlots) * batch_, 0.0f);
        auxTargetHost_.assign(size_t(width_) * batch_, 0.0f);
        lastFired_.assign(latents_, 0);
        api.backend_tensor_set(auxFlat_, auxFlatHost_.data(), 0, auxFlatHost_.size() * sizeof(int32_t));
        api.backend_tensor_set(aux_, auxHost_.data(), 0, auxHost_.size() * sizeof(int32_t));
        api.backend_tensor_set(auxWeight_, auxWeightHost_.data(), 0, auxWeightHost_.size() * sizeof(float));
        api.backend_tensor_set(auxTarget_, auxTargetHost_.data(), 0, auxTargetHost_.size() * sizeof(float));
        pullDecoder();
    } catch (const std::exception & e) {
        release();
        throw Napi::Error::New(env, e.what());
    }
}

SaeTrainer::~SaeTrainer() { release(); }

void SaeTrainer::release() {
    if (!backend_ && !ctxParams_ && !schedTrain_ && !schedForward_) return;
    const LlamaApi & api = llamaApi();
    if (optTrain_) api.opt_free(optTrain_);
    if (optForward_) api.opt_free(optForward_);
    optTrain_ = optForward_ = nullptr;
    if (schedTrain_) api.backend_sched_free(schedTrain_);
    if (schedForward_) api.backend_sched_free(schedForward_);
    schedTrain_ = schedForward_ = nullptr;
    if (bufResults_) api.backend_buffer_free(bufResults_);
    if (bufParams_) api.backend_buffer_free(bufParams_);
    bufResults_ = bufParams_ = nullptr;
    for (ggml_context ** c : {&ctxTrain_, &ctxForward_, &ctxResults_, &ctxParams_}) {
        if (*c) api.free(*c);
        *c = nullptr;
    }
    if (cpuBackend_) api.backend_free(cpuBackend_);
    if (backend_) api.backend_free(backend_);
    cpuBackend_ = backend_ = nullptr;
}

ggml_opt_optimizer_params SaeTrainer::optimizerParams(void * userData) {
    return static_cast<SaeTrainer *>(userData)->optimizer_;
}

void SaeTrainer::checkBatch(const Napi::Env & env, const Napi::Float32Array & x) const {
    if (x.ElementLength() != size_t(width_) * batch_) {
        throw Napi::RangeError::New(env, "SaeTrainer: a batch holds batchSize × width = " + std::to_string(size_t(width_) * batch_) +
                                             " floats, got " + std::to_string(x.ElementLength()));
    }
}

void SaeTrainer::forward() {
    const LlamaApi & api = llamaApi();
    api.backend_tensor_set(inputX_, x_.data(), 0, x_.size() * sizeof(float));
    api.opt_alloc(optForward_, false);
    api.opt_eval(optForward_, nullptr);
    api.backend_tensor_get(preOut_, pre_.data(), 0, pre_.size() * sizeof(float));
}

void SaeTrainer::pullDecoder() {
    const LlamaApi & api = llamaApi();
    decoderColumns_.resize(size_t(latents_) * width_);
    decoderBiasHost_.resize(width_);
    api.backend_tensor_get(decoder_, decoderColumns_.data(), 0, decoderColumns_.size() * sizeof(float));
    api.backend_tensor_get(decoderBias_, decoderBiasHost_.data(), 0, decoderBiasHost_.size() * sizeof(float));
}

// Unit-norm decoder columns after every step, as Gao et al. and SAELens do.
void SaeTrainer::renormaliseDecoder() {
    const LlamaApi & api = llamaApi();
    pullDecoder();
    for (int i = 0; i < latents_; i++) {
        float * column = decoderColumns_.data() + size_t(i) * width_;
        double norm = 0;
        for (int d = 0; d < width_; d++) norm += double(column[d]) * column[d];
        if (!(norm > 0)) continue;
        const double inverse = 1.0 / std::sqrt(norm);
        for (int d = 0; d < width_; d++) column[d] = float(column[d] * inverse);
    }
    api.backend_tensor_set(decoder_, decoderColumns_.data(), 0, decoderColumns_.size() * sizeof(float));
}

void SaeTrainer::setMasks(bool trackDeadLatents) {
    const LlamaApi & api = llamaApi();
    const bool withAux = auxK_ > 0 && auxCoefficient_ > 0;
    // Dead before this batch: fired on none of the last deadWindow_ tokens.
    std::vector<int> dead;
    if (withAux && deadWindow_ > 0) {
        for (int i = 0; i < latents_; i++) {
            if (tokensSeen_ - lastFired_[i] >= deadWindow_) dead.push_back(i);
        }
    }
    if (!forcedDead_.empty()) {
        dead.clear();
        for (int i = 0; i < latents_; i++) if (forcedDead_[i]) dead.push_back(i);
    }
    deadNow_ = int(dead.size());
    std::fill(auxWeightHost_.begin(), auxWeightHost_.end(), 0.0f);
    std::vector<int> order;
    std::vector<int> deadOrder;
    std::vector<float> reconstruction(width_);
    for (int t = 0; t < batch_; t++) {
        const float * pre = pre_.data() + size_t(t) * latents_;
        keepTopK(pre, latents_, k_, order);
        for (int j = 0; j < k_; j++) {
            keptHost_[size_t(t) * k_ + j] = order[j];
            keptFlatHost_[size_t(t) * k_ + j] = t * latents_ + order[j];
            if (trackDeadLatents && pre[order[j]] > 0) lastFired_[order[j]] = tokensSeen_ + t + 1;
        }
        if (dead.empty()) continue;
        // The auxiliary code: the auxK largest pre-activations among dead latents; its target is
        // what the main code leaves unexplained, e = x − x̂ (a constant here, as Gao et al. detach it).
        deadOrder = dead;
        const int keep = std::min<int>(auxK_, int(dead.size()));
        std::partial_sort(deadOrder.begin(), deadOrder.begin() + keep, deadOrder.end(),
                          [pre](int a, int b) { return pre[a] > pre[b] || (pre[a] == pre[b] && a < b); });
        for (int j = 0; j < auxK_; j++) {
            const size_t slot = size_t(t) * auxK_ + j;
            const int latent = j < keep ? deadOrder[j] : 0;
            auxHost_[slot] = latent;
            auxFlatHost_[slot] = t * latents_ + latent;
            auxWeightHost_[slot] = j < keep ? 1.0f : 0.0f;
        }
        const float * x = x_.data() + size_t(t) * width_;
        float * target = auxTargetHost_.data() + size_t(t) * width_;
        if (!forcedAuxTarget_.empty()) {
            std::copy_n(forcedAuxTarget_.data() + size_t(t) * width_, width_, target);
            continue;
        }
        decodeKept(pre, order, k_, decoderColumns_.data(), decoderBiasHost_.data(), width_, reconstruction.data());
        for (int d = 0; d < width_; d++) target[d] = x[d] - reconstruction[d];
    }
    if (trackDeadLatents) tokensSeen_ += batch_;
    api.backend_tensor_set(keptFlat_, keptFlatHost_.data(), 0, keptFlatHost_.size() * sizeof(int32_t));
    api.backend_tensor_set(kept_, keptHost_.data(), 0, keptHost_.size() * sizeof(int32_t));
    if (withAux) {
        api.backend_tensor_set(auxWeight_, auxWeightHost_.data(), 0, auxWeightHost_.size() * sizeof(float));
        if (!dead.empty()) {
            api.backend_tensor_set(auxFlat_, auxFlatHost_.data(), 0, auxFlatHost_.size() * sizeof(int32_t));
            api.backend_tensor_set(aux_, auxHost_.data(), 0, auxHost_.size() * sizeof(int32_t));
            api.backend_tensor_set(auxTarget_, auxTargetHost_.data(), 0, auxTargetHost_.size() * sizeof(float));
        }
    }
}

// step(x: Float32Array [batchSize × width]) → { mse, aux, loss, dead }: one AdamW step.
Napi::Value SaeTrainer::step(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!optTrain_) throw Napi::Error::New(env, "SaeTrainer: disposed");
    if (forGradients_) throw Napi::Error::New(env, "SaeTrainer: made for gradients only");
    Napi::Float32Array x = info[0].As<Napi::Float32Array>();
    checkBatch(env, x);
    const LlamaApi & api = llamaApi();
    std::memcpy(x_.data(), x.Data(), x_.size() * sizeof(float));
    forward();
    setMasks(true);
    api.opt_alloc(optTrain_, true);
    api.opt_eval(optTrain_, nullptr);
    float mse = 0, aux = 0;
    api.backend_tensor_get(mseOut_, &mse, 0, sizeof(float));
    if (auxOut_) api.backend_tensor_get(auxOut_, &aux, 0, sizeof(float));
    renormaliseDecoder();
    Napi::Object out = Napi::Object::New(env);
    out.Set("mse", double(mse));
    out.Set("aux", double(aux));
    out.Set("loss", double(mse) + double(aux));
    out.Set("dead", deadNow_);
    return out;
}

// encode(x: Float32Array [n × width], n) → { latents: Int32Array [n × k], values: Float32Array
// [n × k], relativeError: Float64Array [n] }. Latents whose kept value is not positive read −1.
Napi::Value SaeTrainer::encode(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!optForward_) throw Napi::Error::New(env, "SaeTrainer: disposed");
    Napi::Float32Array x = info[0].As<Napi::Float32Array>();
    const size_t n = info[1].As<Napi::Number>().Uint32Value();
    if (x.ElementLength() != n * width_) throw Napi::RangeError::New(env, "SaeTrainer.encode: x must hold n × width floats");
    Napi::Int32Array latents = Napi::Int32Array::New(env, n * k_);
    Napi::Float32Array values = Napi::Float32Array::New(env, n * k_);
    Napi::Float64Array relativeError = Napi::Float64Array::New(env, n);
    std::vector<int> order;
    std::vector<double> reconstruction(width_);
    for (size_t start = 0; start < n; start += batch_) {
        const size_t count = std::min<size_t>(batch_, n - start);
        std::fill(x_.begin(), x_.end(), 0.0f);
        std::memcpy(x_.data(), x.Data() + start * width_, count * width_ * sizeof(float));
        forward();
        for (size_t t = 0; t < count; t++) {
            const float * pre = pre_.data() + t * latents_;
            keepTopK(pre, latents_, k_, order);
            for (int j = 0; j < k_; j++) {
                const size_t slot = (start + t) * k_ + j;
                const float v = pre[order[j]];
                latents[slot] = v > 0 ? order[j] : -1;
                values[slot] = v > 0 ? v : 0.0f;
            }
            decodeKept(pre, order, k_, decoderColumns_.data(), decoderBiasHost_.data(), width_, reconstruction.data());
            const float * row = x_.data() + t * width_;
            double num = 0, den = 0;
            for (int d = 0; d < width_; d++) {
                num += (row[d] - reconstruction[d]) * (row[d] - reconstruction[d]);
                den += double(row[d]) * row[d];
            }
            relativeError[start + t] = den > 0 ? num / den : 0.0;
        }
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("latents", latents);
    out.Set("values", values);
    out.Set("relativeError", relativeError);
    return out;
}

// gradients(x, dead?: Uint8Array [latents], auxTarget?: Float32Array [batch × width]) → { loss, mse, aux, encoder, encoderBias, decoder,
// decoderBias }: the loss and its gradient with respect to each parameter at the current weights,
// with the TopK mask (and, given `dead`, the auxiliary mask over those latents) held fixed. No step.
Napi::Value SaeTrainer::gradients(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!forGradients_) throw Napi::Error::New(env, "SaeTrainer: construct with forGradients: true to read gradients");
    Napi::Float32Array x = info[0].As<Napi::Float32Array>();
    checkBatch(env, x);
    forcedDead_.assign(latents_, 0);
    if (info.Length() > 1 && info[1].IsTypedArray()) {
        Napi::Uint8Array dead = info[1].As<Napi::Uint8Array>();
        if (dead.ElementLength() != size_t(latents_)) throw Napi::RangeError::New(env, "SaeTrainer.gradients: dead must hold one flag per latent");
        std::memcpy(forcedDead_.data(), dead.Data(), latents_);
    }
    // The auxiliary target is a constant of the loss (Gao et al. detach it); a finite-difference
    // check must hold it fixed too, so the caller may pass the one an earlier call returned.
    forcedAuxTarget_.clear();
    if (info.Length() > 2 && info[2].IsTypedArray()) {
        Napi::Float32Array target = info[2].As<Napi::Float32Array>();
        if (target.ElementLength() != size_t(width_) * batch_) throw Napi::RangeError::New(env, "SaeTrainer.gradients: auxTarget must hold batchSize × width floats");
        forcedAuxTarget_.assign(target.Data(), target.Data() + target.ElementLength());
    }
    const LlamaApi & api = llamaApi();
    std::memcpy(x_.data(), x.Data(), x_.size() * sizeof(float));
    forward();
    setMasks(false);
    forcedDead_.clear();
    forcedAuxTarget_.clear();
    // Accumulation step 1 of 2: gradients only, into zeroed accumulators. The forward evaluation
    // after it brings the accumulation counter back to 0, so no call ever takes an optimiser step.
    api.opt_reset(optTrain_, false);
    api.opt_alloc(optTrain_, true);
    api.opt_eval(optTrain_, nullptr);
    float mse = 0, aux = 0;
    api.backend_tensor_get(mseOut_, &mse, 0, sizeof(float));
    if (auxOut_) api.backend_tensor_get(auxOut_, &aux, 0, sizeof(float));
    Napi::Object out = Napi::Object::New(env);
    out.Set("mse", double(mse));
    out.Set("aux", double(aux));
    out.Set("loss", double(mse) + double(aux));
    out.Set("encoder", tensorOut(env, api.opt_grad_acc(optTrain_, encoder_)));
    out.Set("encoderBias", tensorOut(env, api.opt_grad_acc(optTrain_, encoderBias_)));
    out.Set("decoder", decoderOut(env, api.opt_grad_acc(optTrain_, decoder_)));
    out.Set("decoderBias", tensorOut(env, api.opt_grad_acc(optTrain_, decoderBias_)));
    out.Set("auxTarget", copyOut(env, auxTargetHost_));
    api.opt_alloc(optTrain_, false);
    api.opt_eval(optTrain_, nullptr);
    return out;
}

// A [width, latents] decoder-shaped tensor as the caller's [width × latents] row-major layout.
Napi::Float32Array SaeTrainer::decoderOut(Napi::Env env, ggml_tensor * t) const {
    std::vector<float> columns(size_t(latents_) * width_);
    llamaApi().backend_tensor_get(t, columns.data(), 0, columns.size() * sizeof(float));
    return arrayOut(env, transposed(columns.data(), latents_, width_));
}

Napi::Value SaeTrainer::weights(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!bufParams_) throw Napi::Error::New(env, "SaeTrainer: disposed");
    Napi::Object out = Napi::Object::New(env);
    out.Set("encoder", tensorOut(env, encoder_));
    out.Set("encoderBias", tensorOut(env, encoderBias_));
    out.Set("decoder", decoderOut(env, decoder_));
    out.Set("decoderBias", tensorOut(env, decoderBias_));
    return out;
}

Napi::Value SaeTrainer::setLearningRate(const Napi::CallbackInfo & info) {
    const double lr = info[0].As<Napi::Number>().DoubleValue();
    if (!(lr > 0)) throw Napi::RangeError::New(info.Env(), "SaeTrainer: the learning rate must be positive");
    optimizer_.adamw.alpha = float(lr);
    optimizer_.sgd.alpha = float(lr);
    return info.Env().Undefined();
}

Napi::Value SaeTrainer::info(const Napi::CallbackInfo & info) {
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("backend", backendName_);
    out.Set("tokensSeen", double(tokensSeen_));
    out.Set("dead", deadNow_);
    return out;
}

Napi::Value SaeTrainer::dispose(const Napi::CallbackInfo & info) {
    release();
    return info.Env().Undefined();
}

}  // namespace icl
