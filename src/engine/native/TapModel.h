// A GGUF model loaded through the llama.cpp that node-llama-cpp selected, owned by JavaScript.
#pragma once

#include <napi.h>

#include <string>

#include "llama.h"

namespace icl {

class TapModel : public Napi::ObjectWrap<TapModel> {
public:
    static Napi::Function define(Napi::Env env);
    static Napi::FunctionReference constructor;

    explicit TapModel(const Napi::CallbackInfo & info);
    ~TapModel() override;

    llama_model * model() const { return model_; }
    // Contexts borrow model_; dispose() refuses while any is open.
    int openContexts = 0;
    const std::string & architecture() const { return architecture_; }

private:
    static Napi::Value load(const Napi::CallbackInfo & info);
    Napi::Value info(const Napi::CallbackInfo & info);
    Napi::Value tokenize(const Napi::CallbackInfo & info);
    Napi::Value detokenize(const Napi::CallbackInfo & info);
    Napi::Value isEndOfGeneration(const Napi::CallbackInfo & info);
    Napi::Value createContext(const Napi::CallbackInfo & info);
    Napi::Value dispose(const Napi::CallbackInfo & info);

    llama_model * requireModel(Napi::Env env) const;

    llama_model * model_ = nullptr;
    std::string path_;
    std::string architecture_;
};

}  // namespace icl
