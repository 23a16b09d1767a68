// Module entry: the activation tap's JavaScript surface, described in src/engine/addon.ts.
#include <napi.h>

#include "ActivationReducer.h"
#include "LlamaApi.h"
#include "SaeTrainer.h"
#include "TapContext.h"
#include "TapModel.h"

namespace {

Napi::Value statisticNames(const Napi::CallbackInfo & info) {
    Napi::Array out = Napi::Array::New(info.Env(), icl::kStatisticCount);
    for (int s = 0; s < icl::kStatisticCount; s++) out.Set(uint32_t(s), icl::statisticName(s));
    return out;
}

Napi::Value poolingNames(const Napi::CallbackInfo & info) {
    Napi::Array out = Napi::Array::New(info.Env(), icl::kPoolingCount);
    for (int p = 0; p < icl::kPoolingCount; p++) out.Set(uint32_t(p), icl::poolingName(p));
    return out;
}

// reduceActivations(values: Float32Array, tokens, dims): the engine's reduction on given data,
// so tests can hold it to hand-computed values.
Napi::Value reduceActivations(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Napi::Float32Array values = info[0].As<Napi::Float32Array>();
    const size_t tokens = info[1].As<Napi::Number>().Uint32Value();
    const size_t dims = info[2].As<Napi::Number>().Uint32Value();
    if (dims == 0 || tokens * dims != values.ElementLength()) throw Napi::RangeError::New(env, "values must hold tokens * dims floats");
    Napi::Float64Array out = Napi::Float64Array::New(env, icl::kPoolingCount * icl::kStatisticCount);
    icl::ActivationReducer reducer;
    reducer.reduce(values.Data(), tokens, dims, out.Data());
    return out;
}

Napi::Value bindLlama(const Napi::CallbackInfo & info) {
    try {
        const auto & api = icl::bindLoadedLlama();
        Napi::Object out = Napi::Object::New(info.Env());
        out.Set("llamaLibrary", api.llamaPath);
        out.Set("ggmlBaseLibrary", api.ggmlBasePath);
        return out;
    } catch (const std::exception & e) {
        throw Napi::Error::New(info.Env(), e.what());
    }
}

Napi::Object init(Napi::Env env, Napi::Object exports) {
    exports.Set("TapModel", icl::TapModel::define(env));
    exports.Set("TapContext", icl::TapContext::define(env));
    exports.Set("SaeTrainer", icl::SaeTrainer::define(env));
    exports.Set("statisticNames", Napi::Function::New(env, statisticNames));
    exports.Set("poolingNames", Napi::Function::New(env, poolingNames));
    exports.Set("reduceActivations", Napi::Function::New(env, reduceActivations));
    exports.Set("bindLlama", Napi::Function::New(env, bindLlama));
    return exports;
}

}  // namespace

NODE_API_MODULE(icl_activation_tap, init)
