#include "TapModel.h"

#include <vector>

#include "LlamaApi.h"
#include "TapContext.h"

namespace icl {

Napi::FunctionReference TapModel::constructor;

namespace {

std::string metaString(const LlamaApi & api, const llama_model * model, const char * key) {
    std::vector<char> buffer(256);
    int32_t n = api.model_meta_val_str(model, key, buffer.data(), buffer.size());
    if (n < 0) return std::string();
    if (size_t(n) >= buffer.size()) {
        buffer.resize(size_t(n) + 1);
        api.model_meta_val_str(model, key, buffer.data(), buffer.size());
    }
    return std::string(buffer.data());
}

// Loading reads hundreds of MB and may upload to a GPU: keep it off the JS thread.
class LoadModelWorker : public Napi::AsyncWorker {
public:
    LoadModelWorker(Napi::Env env, std::string path, int32_t gpuLayers, bool useMmap)
        : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), path_(std::move(path)),
          gpuLayers_(gpuLayers), useMmap_(useMmap) {}

    Napi::Promise promise() { return deferred_.Promise(); }

    void Execute() override {
        try {
            const auto & api = bindLoadedLlama();
            llama_model_params params = api.model_default_params();
            params.n_gpu_layers = gpuLayers_;
            if (!useMmap_) params.load_mode = LLAMA_LOAD_MODE_NONE;
            model_ = api.model_load_from_file(path_.c_str(), params);
            if (!model_) SetError("llama.cpp could not load the model " + path_);
        } catch (const std::exception & e) {
            SetError(e.what());
        }
    }

    void OnOK() override {
        Napi::Env env = Env();
        Napi::Object instance = TapModel::constructor.New(
            {Napi::External<llama_model>::New(env, model_), Napi::String::New(env, path_)});
        deferred_.Resolve(instance);
    }

    void OnError(const Napi::Error & error) override { deferred_.Reject(error.Value()); }

private:
    Napi::Promise::Deferred deferred_;
    std::string path_;
    int32_t gpuLayers_;
    bool useMmap_;
    llama_model * model_ = nullptr;
};

}  // namespace

Napi::Function TapModel::define(Napi::Env env) {
    Napi::Function cls = DefineClass(env, "TapModel",
                                     {
                                         StaticMethod("load", &TapModel::load),
                                         InstanceMethod("info", &TapModel::info),
                                         InstanceMethod("tokenize", &TapModel::tokenize),
                                         InstanceMethod("detokenize", &TapModel::detokenize),
                                         InstanceMethod("isEndOfGeneration", &TapModel::isEndOfGeneration),
                                         InstanceMethod("createContext", &TapModel::createContext),
                                         InstanceMethod("dispose", &TapModel::dispose),
                                     });
    constructor = Napi::Persistent(cls);
    constructor.SuppressDestruct();
    return cls;
}

TapModel::TapModel(const Napi::CallbackInfo & info) : Napi::ObjectWrap<TapModel>(info) {
    if (info.Length() < 2 || !info[0].IsExternal()) {
        throw Napi::TypeError::New(info.Env(), "use TapModel.load(path, options)");
    }
    model_ = info[0].As<Napi::External<llama_model>>().Data();
    path_ = info[1].As<Napi::String>().Utf8Value();
    architecture_ = metaString(llamaApi(), model_, "general.architecture");
}

TapModel::~TapModel() {
    if (model_) llamaApi().model_free(model_);
}

llama_model * TapModel::requireModel(Napi::Env env) const {
    if (!model_) throw Napi::Error::New(env, "the model " + path_ + " was disposed");
    return model_;
}

Napi::Value TapModel::load(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "load(path, options)");
    int32_t gpuLayers = 0;
    bool useMmap = true;
    if (info.Length() > 1 && info[1].IsObject()) {
        Napi::Object options = info[1].As<Napi::Object>();
        if (options.Has("gpuLayers")) gpuLayers = options.Get("gpuLayers").As<Napi::Number>().Int32Value();
        if (options.Has("useMmap")) useMmap = options.Get("useMmap").As<Napi::Boolean>().Value();
    }
    try {
        bindLoadedLlama();
    } catch (const std::exception & e) {
        throw Napi::Error::New(env, e.what());
    }
    auto * worker = new LoadModelWorker(env, info[0].As<Napi::String>().Utf8Value(), gpuLayers, useMmap);
    Napi::Promise promise = worker->promise();
    worker->Queue();
    return promise;
}

Napi::Value TapModel::info(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    llama_model * model = requireModel(env);
    const auto & api = llamaApi();
    const llama_vocab * vocab = api.model_get_vocab(model);
    char desc[256];
    api.model_desc(model, desc, sizeof(desc));
    Napi::Object out = Napi::Object::New(env);
    out.Set("architecture", architecture_);
    out.Set("description", std::string(desc));
    out.Set("layers", api.model_n_layer(model));
    out.Set("embeddingLength", api.model_n_embd(model));
    out.Set("vocabularySize", api.vocab_n_tokens(vocab));
    out.Set("parameters", double(api.model_n_params(model)));
    out.Set("tensorBytes", double(api.model_size(model)));
    out.Set("addBos", api.vocab_get_add_bos(vocab));
    out.Set("bosToken", api.vocab_bos(vocab));
    out.Set("llamaLibrary", api.llamaPath);
    return out;
}

Napi::Value TapModel::tokenize(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    llama_model * model = requireModel(env);
    const std::string text = info[0].As<Napi::String>().Utf8Value();
    const bool addSpecial = info.Length() > 1 && info[1].ToBoolean().Value();
    const bool parseSpecial = info.Length() > 2 && info[2].ToBoolean().Value();
    const auto & api = llamaApi();
    const llama_vocab * vocab = api.model_get_vocab(model);
    std::vector<llama_token> tokens(text.size() + 8);
    int32_t n = api.tokenize(vocab, text.data(), int32_t(text.size()), tokens.data(), int32_t(tokens.size()),
                             addSpecial, parseSpecial);
    if (n < 0) {
        tokens.resize(size_t(-n));
        n = api.tokenize(vocab, text.data(), int32_t(text.size()), tokens.data(), int32_t(tokens.size()), addSpecial,
                         parseSpecial);
    }
    if (n < 0) throw Napi::Error::New(env, "tokenization failed");
    Napi::Int32Array out = Napi::Int32Array::New(env, size_t(n));
    for (int32_t i = 0; i < n; i++) out[i] = tokens[i];
    return out;
}

// The UTF-8 bytes of tokens' pieces, concatenated (a character may span tokens), without special tokens.
Napi::Value TapModel::detokenize(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    llama_model * model = requireModel(env);
    Napi::Int32Array tokens = info[0].As<Napi::Int32Array>();
    const auto & api = llamaApi();
    const llama_vocab * vocab = api.model_get_vocab(model);
    std::string bytes;
    std::vector<char> piece(64);
    for (size_t i = 0; i < tokens.ElementLength(); i++) {
        int32_t n = api.token_to_piece(vocab, tokens[i], piece.data(), int32_t(piece.size()), 0, false);
        if (n < 0) {
            piece.resize(size_t(-n));
            n = api.token_to_piece(vocab, tokens[i], piece.data(), int32_t(piece.size()), 0, false);
        }
        if (n > 0) bytes.append(piece.data(), size_t(n));
    }
    return Napi::Buffer<char>::Copy(env, bytes.data(), bytes.size());
}

Napi::Value TapModel::isEndOfGeneration(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    llama_model * model = requireModel(env);
    const auto & api = llamaApi();
    return Napi::Boolean::New(env, api.vocab_is_eog(api.model_get_vocab(model), info[0].As<Napi::Number>().Int32Value()));
}

Napi::Value TapModel::createContext(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    requireModel(env);
    return TapContext::constructor.New({Value(), info.Length() > 0 ? info[0] : env.Undefined()});
}

Napi::Value TapModel::dispose(const Napi::CallbackInfo & info) {
    if (openContexts > 0) throw Napi::Error::New(info.Env(), "dispose the model's contexts first");
    if (model_) {
        llamaApi().model_free(model_);
        model_ = nullptr;
    }
    return info.Env().Undefined();
}

}  // namespace icl
