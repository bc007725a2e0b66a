#!/usr/bin/env bash
# Builds the Worker bundle into edge/build/ (index.js, index_bg.wasm, glue).
# Idempotent: cargo and worker-build redo only what changed. wrangler.toml's
# [build] command calls this; so does CI. Nothing is downloaded from GitHub:
#   - wasm-bindgen: `cargo install wasm-bindgen-cli --version 0.2.130`
#     (must equal the wasm-bindgen in Cargo.lock), or WASM_BINDGEN_BIN;
#   - worker-build: `cargo install worker-build --version 0.8.7`, or WORKER_BUILD_BIN;
#   - wasm-opt and esbuild: from npm (`npm ci` here: binaryen@132, wrangler's esbuild).
set -euo pipefail
cd "$(dirname "$0")"

fail() { echo "edge/build.sh: $*" >&2; exit 1; }

WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$HOME/.cargo/bin/wasm-bindgen}"
WORKER_BUILD_BIN="${WORKER_BUILD_BIN:-$(command -v worker-build || echo "$HOME/.cargo/bin/worker-build")}"
[ -x "$WASM_BINDGEN_BIN" ] || fail "wasm-bindgen not found at $WASM_BINDGEN_BIN (cargo install wasm-bindgen-cli --version 0.2.130)"
[ -x "$WORKER_BUILD_BIN" ] || fail "worker-build not found (cargo install worker-build --version 0.8.7)"
"$WASM_BINDGEN_BIN" --version | grep -q ' 0\.2\.130' \
  || fail "wasm-bindgen must be 0.2.130 (Cargo.lock pins it), found: $("$WASM_BINDGEN_BIN" --version)"
if [ ! -x node_modules/.bin/wasm-opt ] || [ ! -x node_modules/.bin/esbuild ]; then
  npm ci --no-audit --no-fund
fi

export WASM_BINDGEN_BIN
export WASM_OPT_BIN="$PWD/node_modules/.bin/wasm-opt"
export ESBUILD_BIN="$PWD/node_modules/.bin/esbuild"
# Size over speed for the Worker (the workspace's release profile is tuned
# for the native binaries); set here so the root profile stays untouched.
export CARGO_PROFILE_RELEASE_OPT_LEVEL="${CARGO_PROFILE_RELEASE_OPT_LEVEL:-s}"
export CARGO_PROFILE_RELEASE_LTO="${CARGO_PROFILE_RELEASE_LTO:-true}"
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS="${CARGO_PROFILE_RELEASE_CODEGEN_UNITS:-1}"
export CARGO_PROFILE_RELEASE_PANIC=abort

"$WORKER_BUILD_BIN" --release
ls -l build/index.js build/*.wasm
