#!/usr/bin/env bash
# The edge worker's local lifecycle, used by `make run`, `make test` and bench/http.sh.
#
#   bash scripts/worker.sh build                 # worker-build (profile "worker"), wasm-opt -> worker/build/
#   bash scripts/worker.sh start PORT STATE_DIR  # migrate D1, start wrangler dev, wait for it
#   bash scripts/worker.sh stop STATE_DIR        # stop that wrangler dev (its process group)
#
# `start` writes STATE_DIR/wrangler.pid and STATE_DIR/wrangler.log and returns once the worker
# answers; secrets come from .dev.vars (see `make run`) or the EBB_DEV_VARS file. wrangler's
# DevTools inspector listens on EBB_INSPECTOR_PORT (default: any free port).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

build() {
    (cd worker && worker-build --profile worker)
    local wasm=worker/build/index_bg.wasm
    [[ -f $wasm ]] || wasm=$(ls worker/build/*.wasm | head -n 1)
    # Drop the names section (~28 KB gzipped; panics then show function indices, not names),
    # fold duplicate monomorphised functions, then binaryen's -O2 with its inlining held to
    # functions of at most 10 bytes with one caller: plain -O/-Oz shrink the raw wasm but grow it
    # gzipped (inlining), -O2 without that inlining takes 6 KB off it (BENCHMARKS.md, "Worker
    # wasm size: the content hash from the file's bytes"). The features are the ones
    # worker-build enables: rustc's wasm32 defaults plus exception handling for wasm-bindgen's
    # catch wrappers; nothing newer than workerd supports.
    wasm-opt --strip-debug --strip-producers --duplicate-function-elimination \
        --merge-similar-functions --remove-unused-module-elements \
        -O2 --one-caller-inline-max-function-size=10 --flexible-inline-max-function-size=0 \
        --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int \
        --enable-bulk-memory --enable-multivalue --enable-reference-types \
        --enable-exception-handling "$wasm" -o "$wasm.opt"
    mv "$wasm.opt" "$wasm"
    echo "worker: $(stat -c %s "$wasm") bytes of wasm, $(gzip -9 -c "$wasm" | wc -c) gzipped" >&2
}

start() {
    local port=$1 state=$2
    mkdir -p "$state"
    local vars=${EBB_DEV_VARS:-.dev.vars}
    [[ -f $vars ]] || { echo "worker: $vars is missing (make run creates it)" >&2; exit 1; }
    wrangler d1 migrations apply EBB --local --persist-to "$state" >"$state/migrations.log" 2>&1 ||
        { cat "$state/migrations.log" >&2; exit 1; }
    # Its own process group, so `stop` ends node, esbuild and workerd together.
    setsid wrangler dev --ip 127.0.0.1 --port "$port" --persist-to "$state" --env-file "$vars" \
        --inspector-port "${EBB_INSPECTOR_PORT:-0}" --test-scheduled --show-interactive-dev-session=false \
        >"$state/wrangler.log" 2>&1 < /dev/null &
    echo $! >"$state/wrangler.pid"
    for _ in $(seq 1 300); do
        if curl -s -o /dev/null "http://127.0.0.1:$port/v1/app-info"; then
            return 0
        fi
        if ! kill -0 "$(cat "$state/wrangler.pid")" 2>/dev/null; then
            echo "worker: wrangler dev exited:" >&2
            tail -n 30 "$state/wrangler.log" >&2
            exit 1
        fi
        sleep 0.2
    done
    echo "worker: no answer on port $port after 60 s:" >&2
    tail -n 30 "$state/wrangler.log" >&2
    stop "$state"
    exit 1
}

stop() {
    local state=$1 pid
    [[ -f $state/wrangler.pid ]] || return 0
    pid=$(cat "$state/wrangler.pid")
    kill -TERM -- "-$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
        kill -0 -- "-$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
    rm -f "$state/wrangler.pid"
}

case ${1:-} in
    build) build ;;
    start) start "$2" "$3" ;;
    stop) stop "$2" ;;
    *) echo "usage: $0 build | start PORT STATE_DIR | stop STATE_DIR" >&2; exit 2 ;;
esac
