{
  # Built by `npm install` / `npm ci` (node-gyp rebuild). Keep in step with CMakeLists.txt (the cmake-js build).
  "variables": {
    # MODPROP_PORTABLE=1 at build time drops -march=native, for binaries that must run on other x86-64 CPUs.
    "modprop_portable%": "<!(node -p \"process.env.MODPROP_PORTABLE === '1' ? 'yes' : 'no'\")"
  },
  "targets": [
    {
      "target_name": "modprop",
      # Globbed so new files under native/core/ and native/binding/ need no edit here; an empty folder expands to nothing.
      "sources": [
        "<!@(node -p \"var fs = require('fs'), d = 'native/binding'; (fs.existsSync(d) ? fs.readdirSync(d) : []).filter(function (f) { return f.endsWith('.cc'); }).sort().map(function (f) { return d + '/' + f; }).join(' ')\")",
        "<!@(node -p \"var fs = require('fs'), d = 'native/core'; (fs.existsSync(d) ? fs.readdirSync(d) : []).filter(function (f) { return f.endsWith('.cc'); }).sort().map(function (f) { return d + '/' + f; }).join(' ')\")"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native/core"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags": ["-O3", "-fvisibility=hidden", "-pthread"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-fexceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "ldflags": ["-pthread"],
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
        ["modprop_portable=='yes'", {
          "defines": ["MODPROP_PORTABLE=1"]
        }, {
          "cflags": ["-march=native"],
          "xcode_settings": { "OTHER_CFLAGS": ["-march=native"] }
        }]
      ]
    }
  ]
}
