// Function table for the llama.cpp/ggml shared libraries that node-llama-cpp already loaded.
// We never link against one libllama at build time: node-llama-cpp's getLlama() picks the CPU,
// CUDA, Vulkan or Metal variant at run time, and we bind to whichever one is in the process, so
// the tap and node-llama-cpp share one copy of llama.cpp and its backends.
#pragma once

#include <string>

#include "ggml-alloc.h"
#include "ggml-backend.h"
#include "ggml-opt.h"
#include "ggml.h"
#include "llama.h"

namespace icl {

struct LlamaApi {
    std::string llamaPath;
    std::string ggmlBasePath;

    decltype(&llama_backend_init) backend_init = nullptr;
    decltype(&llama_model_default_params) model_default_params = nullptr;
    decltype(&llama_context_default_params) context_default_params = nullptr;
    decltype(&llama_model_load_from_file) model_load_from_file = nullptr;
    decltype(&llama_model_free) model_free = nullptr;
    decltype(&llama_init_from_model) init_from_model = nullptr;
    decltype(&llama_free) free_context = nullptr;
    decltype(&llama_n_ctx) n_ctx = nullptr;
    decltype(&llama_model_n_layer) model_n_layer = nullptr;
    decltype(&llama_model_n_embd) model_n_embd = nullptr;
    decltype(&llama_model_get_vocab) model_get_vocab = nullptr;
    decltype(&llama_model_meta_val_str) model_meta_val_str = nullptr;
    decltype(&llama_model_desc) model_desc = nullptr;
    decltype(&llama_model_size) model_size = nullptr;
    decltype(&llama_model_n_params) model_n_params = nullptr;
    decltype(&llama_vocab_n_tokens) vocab_n_tokens = nullptr;
    decltype(&llama_vocab_bos) vocab_bos = nullptr;
    decltype(&llama_vocab_get_add_bos) vocab_get_add_bos = nullptr;
    decltype(&llama_tokenize) tokenize = nullptr;
    decltype(&llama_decode) decode = nullptr;
    decltype(&llama_get_memory) get_memory = nullptr;
    decltype(&llama_memory_clear) memory_clear = nullptr;
    decltype(&llama_get_logits_ith) get_logits_ith = nullptr;
    decltype(&llama_set_abort_callback) set_abort_callback = nullptr;
    decltype(&llama_synchronize) synchronize = nullptr;

    decltype(&llama_attach_threadpool) attach_threadpool = nullptr;
    decltype(&llama_token_to_piece) token_to_piece = nullptr;
    decltype(&llama_vocab_is_eog) vocab_is_eog = nullptr;

    decltype(&ggml_backend_tensor_get) backend_tensor_get = nullptr;
    decltype(&ggml_backend_dev_by_type) backend_dev_by_type = nullptr;
    decltype(&ggml_backend_dev_backend_reg) backend_dev_backend_reg = nullptr;
    decltype(&ggml_backend_reg_get_proc_address) backend_reg_get_proc_address = nullptr;
    decltype(&ggml_threadpool_params_default) threadpool_params_default = nullptr;
    decltype(&ggml_backend_buffer_is_host) backend_buffer_is_host = nullptr;
    decltype(&ggml_backend_dev_count) backend_dev_count = nullptr;
    decltype(&ggml_backend_load_all_from_path) backend_load_all_from_path = nullptr;

    // ggml's graph and optimiser API, for training sparse autoencoders (SaeTrainer.cpp).
    decltype(&ggml_init) init = nullptr;
    decltype(&ggml_free) free = nullptr;
    decltype(&ggml_tensor_overhead) tensor_overhead = nullptr;
    decltype(&ggml_new_tensor_1d) new_tensor_1d = nullptr;
    decltype(&ggml_new_tensor_2d) new_tensor_2d = nullptr;
    decltype(&ggml_mul_mat) mul_mat = nullptr;
    decltype(&ggml_add) add = nullptr;
    decltype(&ggml_sub) sub = nullptr;
    decltype(&ggml_mul) mul = nullptr;
    decltype(&ggml_relu) relu = nullptr;
    decltype(&ggml_sqr) sqr = nullptr;
    decltype(&ggml_sum) sum = nullptr;
    decltype(&ggml_scale) scale = nullptr;
    decltype(&ggml_set_param) set_param = nullptr;
    decltype(&ggml_set_input) set_input = nullptr;
    decltype(&ggml_set_output) set_output = nullptr;
    decltype(&ggml_set_name) set_name = nullptr;
    decltype(&ggml_backend_alloc_ctx_tensors) backend_alloc_ctx_tensors = nullptr;
    decltype(&ggml_backend_tensor_set) backend_tensor_set = nullptr;
    decltype(&ggml_backend_buffer_free) backend_buffer_free = nullptr;
    decltype(&ggml_backend_sched_new) backend_sched_new = nullptr;
    decltype(&ggml_backend_sched_free) backend_sched_free = nullptr;
    decltype(&ggml_backend_dev_init) backend_dev_init = nullptr;
    decltype(&ggml_backend_free) backend_free = nullptr;
    decltype(&ggml_backend_name) backend_name = nullptr;
    decltype(&ggml_opt_default_params) opt_default_params = nullptr;
    decltype(&ggml_opt_init) opt_init = nullptr;
    decltype(&ggml_opt_free) opt_free = nullptr;
    decltype(&ggml_opt_alloc) opt_alloc = nullptr;
    decltype(&ggml_opt_eval) opt_eval = nullptr;
    decltype(&ggml_opt_loss) opt_loss = nullptr;
    decltype(&ggml_opt_grad_acc) opt_grad_acc = nullptr;
    decltype(&ggml_opt_reset) opt_reset = nullptr;
    decltype(&ggml_get_rows) get_rows = nullptr;
    decltype(&ggml_reshape_2d) reshape_2d = nullptr;
    decltype(&ggml_reshape_3d) reshape_3d = nullptr;
    decltype(&ggml_permute) permute = nullptr;
    decltype(&ggml_cont) cont = nullptr;
    decltype(&ggml_sum_rows) sum_rows = nullptr;
};

// The CPU backend's threadpool functions, reached through its registry (the CPU backend is a
// separately loaded, CPU-specific library). Null when no CPU backend is registered.
struct CpuThreadpoolApi {
    ggml_threadpool_t (*create)(struct ggml_threadpool_params * params) = nullptr;
    void (*destroy)(ggml_threadpool_t threadpool) = nullptr;
};
CpuThreadpoolApi cpuThreadpoolApi();

// Binds to the libllama and libggml-base already mapped into this process. Throws
// std::runtime_error with a message for the user when they are not loaded or lack a symbol.
const LlamaApi & bindLoadedLlama();

// The bound table; only valid after bindLoadedLlama() succeeded.
const LlamaApi & llamaApi();

}  // namespace icl
