{
  # Built by `npm install` / `npm ci` (node-gyp-build: node-gyp rebuild when no prebuild loads) and by prebuildify
  # (`npm run prebuild`). Keep in step with CMakeLists.txt (the cmake-js build).
  #
  # Portable by default: the generic code is compiled for x86-64-v2, and only the float kernels of
  # native/core/kernels_avx2.cc and kernels_avx512.cc get their instruction sets (separate static libraries below),
  # chosen at run time (native/core/kernels.cc). MODPROP_NATIVE=1 at build time compiles everything with
  # -march=native instead: for this CPU only; never a prebuild (prebuildify sets PREBUILD_PLATFORM).
  # -ffp-contract=off keeps FMA contraction out of the generic code, so both builds give the same results bit for
  # bit (the kernels use explicit FMA intrinsics either way). -fno-trapping-math (no value changes: nothing here
  # reads floating-point exception flags) lets GCC vectorise selects such as bptt's relu' gate without masked loads.
  # -fno-math-errno (no value changes: sqrt is correctly rounded either way, and nothing reads errno) lets it
  # vectorise loops that call std::sqrt, such as the Adam step of native/core/optimizer.cc.
  "variables": {
    "modprop_native%": "<!(node -p \"process.env.MODPROP_NATIVE === '1' && !process.env.PREBUILD_PLATFORM ? 'yes' : 'no'\")",
    # Each source file is listed once: the kernel files of an instruction set go to their own library.
    "modprop_isa_sources": ["native/core/kernels_avx2.cc", "native/core/kernels_avx512.cc"]
  },
  "target_defaults": {
    "include_dirs": [
      "<!(node -p \"require('node-addon-api').include_dir\")",
      "native/core"
    ],
    "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
    "cflags": ["-O3", "-fvisibility=hidden", "-pthread", "-ffp-contract=off", "-fno-trapping-math", "-fno-math-errno"],
    "cflags!": ["-fno-exceptions"],
    "cflags_cc": ["-std=c++17", "-fexceptions"],
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
    "xcode_settings": {
      "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
      "GCC_ENABLE_CPP_RTTI": "YES",
      "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
      "GCC_SYMBOLS_PRIVATE_EXTERN": "YES",
      "OTHER_CFLAGS": ["-O3"]
    },
    "msvs_settings": {
      "VCCLCompilerTool": { "ExceptionHandling": 1, "AdditionalOptions": ["/std:c++17", "/O2"] }
    },
    "conditions": [
      ["modprop_native=='yes'", {
        "cflags": ["-march=native"],
        "xcode_settings": { "OTHER_CFLAGS": ["-march=native"] }
      }, {
        "defines": ["MODPROP_PORTABLE=1"],
        "conditions": [
          ["target_arch=='x64' and OS!='win'", {
            "cflags": ["-march=x86-64-v2"],
            "xcode_settings": { "OTHER_CFLAGS": ["-march=x86-64-v2"] }
          }]
        ]
      }]
    ]
  },
  "targets": [
    {
      "target_name": "modprop_kernels_avx2",
      "type": "static_library",
      "sources": ["native/core/kernels_avx2.cc"],
      "cflags": ["-fPIC"],
      "conditions": [
        ["target_arch=='x64' and OS!='win'", {
          "cflags": ["-mavx2", "-mfma"],
          "xcode_settings": { "OTHER_CFLAGS": ["-mavx2", "-mfma"] }
        }]
      ]
    },
    {
      "target_name": "modprop_kernels_avx512",
      "type": "static_library",
      "sources": ["native/core/kernels_avx512.cc"],
      "cflags": ["-fPIC"],
      "conditions": [
        ["target_arch=='x64' and OS!='win'", {
          "cflags": ["-mavx512f", "-mavx512vl", "-mavx2", "-mfma"],
          "xcode_settings": { "OTHER_CFLAGS": ["-mavx512f", "-mavx512vl", "-mavx2", "-mfma"] }
        }]
      ]
    },
    {
      "target_name": "modprop",
      "dependencies": ["modprop_kernels_avx2", "modprop_kernels_avx512"],
      # Globbed so new files under native/core/ and native/binding/ need no edit here; an empty folder expands to nothing.
      "sources": [
        "<!@(node -p \"var fs = require('fs'), d = 'native/binding'; (fs.existsSync(d) ? fs.readdirSync(d) : []).filter(function (f) { return f.endsWith('.cc'); }).sort().map(function (f) { return d + '/' + f; }).join(' ')\")",
        "<!@(node -p \"var fs = require('fs'), d = 'native/core'; (fs.existsSync(d) ? fs.readdirSync(d) : []).filter(function (f) { return f.endsWith('.cc'); }).sort().map(function (f) { return d + '/' + f; }).join(' ')\")"
      ],
      "sources!": ["<@(modprop_isa_sources)"],
      "ldflags": ["-pthread"]
    }
  ]
}
