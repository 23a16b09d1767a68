{
  "targets": [
    {
      "target_name": "icl_activation_tap",
      "sources": [
        "src/engine/native/addon.cpp",
        "src/engine/native/ActivationReducer.cpp",
        "src/engine/native/ActivationTap.cpp",
        "src/engine/native/LlamaApi.cpp",
        "src/engine/native/SaeTrainer.cpp",
        "src/engine/native/TapContext.cpp",
        "src/engine/native/TapModel.cpp"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "node_modules/node-llama-cpp/llama/llama.cpp/include",
        "node_modules/node-llama-cpp/llama/llama.cpp/ggml/include"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O2"],
      "conditions": [
        ["OS=='linux'", { "libraries": ["-ldl"] }],
        ["OS=='mac'", {
          "xcode_settings": {
            "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
            "MACOSX_DEPLOYMENT_TARGET": "11.0"
          }
        }],
        ["OS=='win'", {
          "libraries": ["psapi.lib"],
          "msvs_settings": { "VCCLCompilerTool": { "ExceptionHandling": 1, "AdditionalOptions": ["/std:c++17"] } }
        }]
      ]
    }
  ]
}
