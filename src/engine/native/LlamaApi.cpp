#include "LlamaApi.h"

#include <stdexcept>
#include <vector>

#if defined(_WIN32)
#include <windows.h>
#include <psapi.h>
#else
#include <dlfcn.h>
#endif
#if defined(__APPLE__)
#include <mach-o/dyld.h>
#elif !defined(_WIN32)
#include <link.h>
#endif

namespace icl {
namespace {

LlamaApi gApi;
bool gBound = false;

std::string baseName(const std::string & path) {
    const auto slash = path.find_last_of("/\\");
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string dirName(const std::string & path) {
    const auto slash = path.find_last_of("/\\");
    return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

bool startsWith(const std::string & s, const std::string & prefix) {
    return s.compare(0, prefix.size(), prefix) == 0;
}

// Paths of every shared library mapped into this process.
std::vector<std::string> loadedLibraries() {
    std::vector<std::string> paths;
#if defined(_WIN32)
    HMODULE modules[1024];
    DWORD needed = 0;
    if (EnumProcessModules(GetCurrentProcess(), modules, sizeof(modules), &needed)) {
        for (DWORD i = 0; i < needed / sizeof(HMODULE) && i < 1024; i++) {
            char name[MAX_PATH];
            if (GetModuleFileNameA(modules[i], name, MAX_PATH)) paths.emplace_back(name);
        }
    }
#elif defined(__APPLE__)
    for (uint32_t i = 0; i < _dyld_image_count(); i++) {
        const char * name = _dyld_get_image_name(i);
        if (name) paths.emplace_back(name);
    }
#else
    dl_iterate_phdr(
        [](struct dl_phdr_info * info, size_t, void * data) {
            auto * out = static_cast<std::vector<std::string> *>(data);
            if (info->dlpi_name && info->dlpi_name[0]) out->emplace_back(info->dlpi_name);
            return 0;
        },
        &paths);
#endif
    return paths;
}

bool isLibrary(const std::string & name) {
    return name.find(".so") != std::string::npos || name.find(".dylib") != std::string::npos ||
           name.find(".dll") != std::string::npos;
}

// libllama.v0.5.0.so, libllama.cuda.v0.5.0.so, llama.dll ... but not libllama-common or the
// node-llama-cpp addon (llama-addon.node).
bool isLlamaLibrary(const std::string & name) {
    const bool prefixed = startsWith(name, "libllama.") || startsWith(name, "libllama-") ||
                          startsWith(name, "llama.") || name == "libllama.so" || name == "llama.dll";
    return prefixed && isLibrary(name) && name.find("common") == std::string::npos &&
           name.find(".node") == std::string::npos;
}

bool isGgmlBaseLibrary(const std::string & name) {
    return (startsWith(name, "libggml-base") || startsWith(name, "ggml-base")) && isLibrary(name);
}

using Handle = void *;

Handle openLoaded(const std::string & path) {
#if defined(_WIN32)
    return reinterpret_cast<Handle>(GetModuleHandleA(path.c_str()));
#else
    // RTLD_NOLOAD: take the copy node-llama-cpp mapped; never map a second one.
    return dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD);
#endif
}

void * findSymbol(Handle handle, const char * name) {
#if defined(_WIN32)
    return reinterpret_cast<void *>(GetProcAddress(reinterpret_cast<HMODULE>(handle), name));
#else
    return dlsym(handle, name);
#endif
}

bool isGgmlLibrary(const std::string & name) {
    return (startsWith(name, "libggml.") || startsWith(name, "ggml.")) && isLibrary(name);
}

// Symbols are looked up in libllama, libggml and libggml-base in turn: dlsym on a handle also
// searches its dependencies, Windows' GetProcAddress does not.
struct LoadedLibraries {
    std::vector<Handle> handles;
    std::string description;

    template <typename Fn>
    void bind(Fn & slot, const char * name) const {
        for (Handle handle : handles) {
            slot = reinterpret_cast<Fn>(findSymbol(handle, name));
            if (slot) return;
        }
        throw std::runtime_error("symbol " + std::string(name) + " not found in " + description +
                                 " (node-llama-cpp and the activation tap were built for different llama.cpp releases)");
    }
};

}  // namespace

const LlamaApi & bindLoadedLlama() {
    if (gBound) return gApi;

    std::string llamaPath, ggmlPath, ggmlBasePath;
    for (const auto & path : loadedLibraries()) {
        const auto name = baseName(path);
        if (llamaPath.empty() && isLlamaLibrary(name)) llamaPath = path;
        if (ggmlPath.empty() && isGgmlLibrary(name)) ggmlPath = path;
        if (ggmlBasePath.empty() && isGgmlBaseLibrary(name)) ggmlBasePath = path;
    }
    if (llamaPath.empty()) {
        throw std::runtime_error(
            "llama.cpp is not loaded in this process: call node-llama-cpp's getLlama() before loading a model");
    }
    LoadedLibraries libs;
    libs.description = llamaPath;
    for (const auto & path : {llamaPath, ggmlPath, ggmlBasePath}) {
        if (path.empty()) continue;
        Handle handle = openLoaded(path);
        if (!handle) throw std::runtime_error("cannot open the loaded library " + path);
        libs.handles.push_back(handle);
    }

    LlamaApi api;
    api.llamaPath = llamaPath;
    api.ggmlBasePath = ggmlBasePath;
    libs.bind(api.backend_init, "llama_backend_init");
    libs.bind(api.model_default_params, "llama_model_default_params");
    libs.bind(api.context_default_params, "llama_context_default_params");
    libs.bind(api.model_load_from_file, "llama_model_load_from_file");
    libs.bind(api.model_free, "llama_model_free");
    libs.bind(api.init_from_model, "llama_init_from_model");
    libs.bind(api.free_context, "llama_free");
    libs.bind(api.n_ctx, "llama_n_ctx");
    libs.bind(api.model_n_layer, "llama_model_n_layer");
    libs.bind(api.model_n_embd, "llama_model_n_embd");
    libs.bind(api.model_get_vocab, "llama_model_get_vocab");
    libs.bind(api.model_meta_val_str, "llama_model_meta_val_str");
    libs.bind(api.model_desc, "llama_model_desc");
    libs.bind(api.model_size, "llama_model_size");
    libs.bind(api.model_n_params, "llama_model_n_params");
    libs.bind(api.vocab_n_tokens, "llama_vocab_n_tokens");
    libs.bind(api.vocab_bos, "llama_vocab_bos");
    libs.bind(api.vocab_get_add_bos, "llama_vocab_get_add_bos");
    libs.bind(api.tokenize, "llama_tokenize");
    libs.bind(api.decode, "llama_decode");
    libs.bind(api.get_memory, "llama_get_memory");
    libs.bind(api.memory_clear, "llama_memory_clear");
    libs.bind(api.get_logits_ith, "llama_get_logits_ith");
    libs.bind(api.set_abort_callback, "llama_set_abort_callback");
    libs.bind(api.synchronize, "llama_synchronize");
    libs.bind(api.attach_threadpool, "llama_attach_threadpool");
    libs.bind(api.token_to_piece, "llama_token_to_piece");
    libs.bind(api.vocab_is_eog, "llama_vocab_is_eog");
    libs.bind(api.backend_tensor_get, "ggml_backend_tensor_get");
    libs.bind(api.backend_dev_by_type, "ggml_backend_dev_by_type");
    libs.bind(api.backend_dev_backend_reg, "ggml_backend_dev_backend_reg");
    libs.bind(api.backend_reg_get_proc_address, "ggml_backend_reg_get_proc_address");
    libs.bind(api.threadpool_params_default, "ggml_threadpool_params_default");
    libs.bind(api.backend_buffer_is_host, "ggml_backend_buffer_is_host");
    libs.bind(api.backend_dev_count, "ggml_backend_dev_count");
    libs.bind(api.backend_load_all_from_path, "ggml_backend_load_all_from_path");
    libs.bind(api.init, "ggml_init");
    libs.bind(api.free, "ggml_free");
    libs.bind(api.tensor_overhead, "ggml_tensor_overhead");
    libs.bind(api.new_tensor_1d, "ggml_new_tensor_1d");
    libs.bind(api.new_tensor_2d, "ggml_new_tensor_2d");
    libs.bind(api.mul_mat, "ggml_mul_mat");
    libs.bind(api.add, "ggml_add");
    libs.bind(api.sub, "ggml_sub");
    libs.bind(api.mul, "ggml_mul");
    libs.bind(api.relu, "ggml_relu");
    libs.bind(api.sqr, "ggml_sqr");
    libs.bind(api.sum, "ggml_sum");
    libs.bind(api.scale, "ggml_scale");
    libs.bind(api.set_param, "ggml_set_param");
    libs.bind(api.set_input, "ggml_set_input");
    libs.bind(api.set_output, "ggml_set_output");
    libs.bind(api.set_name, "ggml_set_name");
    libs.bind(api.backend_alloc_ctx_tensors, "ggml_backend_alloc_ctx_tensors");
    libs.bind(api.backend_tensor_set, "ggml_backend_tensor_set");
    libs.bind(api.backend_buffer_free, "ggml_backend_buffer_free");
    libs.bind(api.backend_sched_new, "ggml_backend_sched_new");
    libs.bind(api.backend_sched_free, "ggml_backend_sched_free");
    libs.bind(api.backend_dev_init, "ggml_backend_dev_init");
    libs.bind(api.backend_free, "ggml_backend_free");
    libs.bind(api.backend_name, "ggml_backend_name");
    libs.bind(api.opt_default_params, "ggml_opt_default_params");
    libs.bind(api.opt_init, "ggml_opt_init");
    libs.bind(api.opt_free, "ggml_opt_free");
    libs.bind(api.opt_alloc, "ggml_opt_alloc");
    libs.bind(api.opt_eval, "ggml_opt_eval");
    libs.bind(api.opt_loss, "ggml_opt_loss");
    libs.bind(api.opt_grad_acc, "ggml_opt_grad_acc");
    libs.bind(api.opt_reset, "ggml_opt_reset");
    libs.bind(api.get_rows, "ggml_get_rows");
    libs.bind(api.reshape_2d, "ggml_reshape_2d");
    libs.bind(api.reshape_3d, "ggml_reshape_3d");
    libs.bind(api.permute, "ggml_permute");
    libs.bind(api.cont, "ggml_cont");
    libs.bind(api.sum_rows, "ggml_sum_rows");

    // node-llama-cpp normally registered the backends already; a bare libllama needs this to
    // find even its CPU backend.
    if (api.backend_dev_count() == 0) api.backend_load_all_from_path(dirName(llamaPath).c_str());
    api.backend_init();

    gApi = api;
    gBound = true;
    return gApi;
}

CpuThreadpoolApi cpuThreadpoolApi() {
    const LlamaApi & api = llamaApi();
    CpuThreadpoolApi out;
    ggml_backend_dev_t cpu = api.backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
    if (!cpu) return out;
    ggml_backend_reg_t reg = api.backend_dev_backend_reg(cpu);
    out.create = reinterpret_cast<decltype(out.create)>(api.backend_reg_get_proc_address(reg, "ggml_threadpool_new"));
    out.destroy = reinterpret_cast<decltype(out.destroy)>(api.backend_reg_get_proc_address(reg, "ggml_threadpool_free"));
    if (!out.create || !out.destroy) out = CpuThreadpoolApi{};
    return out;
}

const LlamaApi & llamaApi() {
    if (!gBound) throw std::runtime_error("llama.cpp API used before bindLoadedLlama()");
    return gApi;
}

}  // namespace icl
