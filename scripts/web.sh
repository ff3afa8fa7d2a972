#!/usr/bin/env bash
# The browser dashboard (web/): one wasm module for the page and its compute Web Worker.
#
#   bash scripts/web.sh build    # -> static/app/ (served by wrangler dev at /app/), with the
#                                #    web-app manifest and the service worker sw.js
#
# cargo (profile `web`: release with whole-program LTO; wasm32-unknown-unknown) -> wasm-bindgen
# --target web -> wasm-opt -Oz (npm binaryen), then content-hashed file names so a browser never
# runs a stale mix of page, glue and wasm. Fails when the wasm is over the 1 MB gzipped budget (page and worker share it).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

budget_gzip_bytes=1000000
out=static/app

hash_of() { sha256sum "$1" | cut -c1-12; }

build() {
    cargo build --profile web --target wasm32-unknown-unknown -p ebb-web
    # wasm-bindgen and wasm-opt -Oz take a minute; skip them when static/app/ was built from
    # this same wasm and these same page files (`make test` asks for the app more than once).
    local inputs stamp=target/wasm32-unknown-unknown/web/static-app.sha256
    inputs=$(cat target/wasm32-unknown-unknown/web/ebb_web.wasm web/index.html web/sw.js \
        web/manifest.webmanifest web/icons/icon-192.png web/icons/icon-512.png scripts/web.sh | sha256sum)
    if [[ -f $out/index.html && -f $stamp && $(cat "$stamp") == "$inputs" ]]; then
        echo "web: $out is up to date" >&2
        return 0
    fi
    rm -f "$stamp"
    local tmp
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' RETURN
    wasm-bindgen --target web --no-typescript --out-dir "$tmp" \
        target/wasm32-unknown-unknown/web/ebb_web.wasm
    # The features rustc enables by default for wasm32-unknown-unknown, so wasm-opt may keep them.
    wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
        --enable-mutable-globals --enable-reference-types --enable-multivalue \
        "$tmp/ebb_web_bg.wasm" -o "$tmp/ebb_web_bg.opt.wasm"

    local wasm_name js_name worker_name
    wasm_name=ebb_web_bg-$(hash_of "$tmp/ebb_web_bg.opt.wasm").wasm
    js_name=ebb_web-$(hash_of "$tmp/ebb_web.js").js
    # The worker's loader: import the glue, instantiate the shared wasm, start listening.
    cat >"$tmp/worker.js" <<JS
import init, { start_worker } from './$js_name';
await init({ module_or_path: new URL('./$wasm_name', import.meta.url) });
start_worker();
JS
    worker_name=worker-$(hash_of "$tmp/worker.js").js

    rm -rf "$out"
    mkdir -p "$out"
    cp "$tmp/ebb_web_bg.opt.wasm" "$out/$wasm_name"
    cp "$tmp/ebb_web.js" "$out/$js_name"
    cp "$tmp/worker.js" "$out/$worker_name"
    sed -e "s/{{JS}}/$js_name/g" -e "s/{{WASM}}/$wasm_name/g" -e "s/{{WORKER}}/$worker_name/g" \
        web/index.html >"$out/index.html"
    # Installable and offline: the manifest, its icons (drawn by scripts/icons.mjs), and the
    # service worker, whose cache is named by a hash of every file it serves, so any change
    # makes a new cache and a browser never mixes two builds.
    cp web/manifest.webmanifest web/icons/icon-192.png web/icons/icon-512.png "$out/"
    local build_hash
    build_hash=$(cd "$out" && sha256sum -- * | sha256sum | cut -c1-12)
    sed -e "s/{{CACHE}}/ebb-app-$build_hash/" \
        -e "s/{{HASHED}}/['.\/$wasm_name', '.\/$js_name', '.\/$worker_name']/" \
        web/sw.js >"$out/sw.js"

    local raw gz
    raw=$(stat -c %s "$out/$wasm_name")
    gz=$(gzip -9 -c "$out/$wasm_name" | wc -c)
    echo "web: $raw bytes of wasm, $gz gzipped (page and worker share it; budget $budget_gzip_bytes)" >&2
    if ((gz > budget_gzip_bytes)); then
        echo "web: over the size budget" >&2
        exit 1
    fi
    echo "$inputs" >"$stamp"
}

case ${1:-} in
    build) build ;;
    *) echo "usage: $0 build" >&2; exit 2 ;;
esac
