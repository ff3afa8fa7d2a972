#!/usr/bin/env bash
# Issue 13's HTTP target in one short run: `POST /v1/predict` against the same worker's
# storage-free route (`GET /v1/openapi.yaml`), production-like (bench/http/serve.mjs: Miniflare ->
# workerd on a socket straight to the worker, see bench/http.sh's header), at 2 and 32
# connections, each the median of 3 repetitions; several worker builds interleaved, so a
# before/after comparison shares the machine's state:
#
#   bash bench/http-ratio.sh [BUILD_DIR...]      (default: worker/build)
#
# Each BUILD_DIR holds a worker build (index.js + index_bg.wasm, as `make worker` leaves in
# worker/build; copy it aside to keep a "before"). Generates 20,000 customers, trains a 300-tree
# gbdt (`ebb train --trees 300`, as bench/http.sh), migrates a fresh local D1, starts each build
# on that state and publishes the model to it with `ebb publish --activate`. Repetition r runs
# every build in turn (fresh workerd per build and repetition; wrk warm-up 2 s, then
# EBB_HTTP_SECONDS, default 8, per row), so a slow minute of a shared machine hits all builds
# alike. EBB_BIN: an ebb binary to train and publish with instead of building one (it only makes
# the model). Prints one markdown table (medians, with min and max of the three) and writes it to
# bench/out/http-ratio.md. Everything started is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=bench/out/http-ratio
seconds=${EBB_HTTP_SECONDS:-8}
port=${EBB_HTTP_PORT:-18887}
reps=3
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
source scripts/env.sh
log() { echo "== $*" >&2; }
builds=("$@")
[[ ${#builds[@]} -gt 0 ]] || builds=(worker/build)
for b in "${builds[@]}"; do
    [[ -f $b/index.js && -f $b/index_bg.wasm ]] || { echo "$b: no index.js + index_bg.wasm (make worker)" >&2; exit 2; }
done
command -v wrk >/dev/null || { echo "wrk is missing (apt-get install wrk)" >&2; exit 2; }

pidfile=$out/serve.pid
stop_serve() {
    [[ -f $pidfile ]] || return 0
    local pg
    pg=$(cat "$pidfile")
    kill -TERM -- "-$pg" 2>/dev/null || true
    for _ in $(seq 1 50); do
        kill -0 -- "-$pg" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL -- "-$pg" 2>/dev/null || true
    rm -f "$pidfile"
}
trap stop_serve EXIT
trap 'exit 130' INT TERM

ebb=${EBB_BIN:-}
if [[ -z $ebb ]]; then
    log "building ebb (release)"
    cargo build --release -p ebb-cli
    ebb=$CARGO_TARGET_DIR/release/ebb
fi
rm -rf "$out"
mkdir -p "$out"
log "generating 20000 customers; training a 300-tree gbdt"
"$ebb" generate --rows 20000 --seed 42 --out "$out/customers.csv" >/dev/null
python3 bench/http/bodies.py "$out/customers.csv" "$out" --lua 100 --batch 1
"$ebb" train "$out/customers.csv" --model gbdt --folds 2 --trees 300 --out "$out/model.json" >"$out/train.log"
token() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }
api_token=$(token)
admin_token=$(token)
printf 'API_TOKEN=%s\nADMIN_TOKEN=%s\n' "$api_token" "$admin_token" >"$out/dev.vars"
chmod 600 "$out/dev.vars"
state=$out/state
wrangler d1 migrations apply EBB --local --persist-to "$state" >"$out/migrations.log" 2>&1 ||
    { cat "$out/migrations.log" >&2; exit 1; }

url=http://127.0.0.1:$((port + 1))
start_serve() { # BUILD_DIR
    setsid bash -c 'echo $$ >"$0"; exec node bench/http/serve.mjs "$1" "$2" "$3" "$4" --build "$5"' \
        "$pidfile" "$port" "$((port + 1))" "$state" "$out/dev.vars" "$1" >"$out/serve.log" 2>&1 </dev/null &
    for _ in $(seq 1 300); do
        curl -s -o /dev/null "$url/v1/app-info" && return 0
        sleep 0.2
    done
    cat "$out/serve.log" >&2
    exit 1
}
post() { # PATH BODY_FILE -> HTTP code, the answer in $out/answer.json
    curl -s -o "$out/answer.json" -w '%{http_code}' -X POST "$url$1" \
        -H "Authorization: Bearer $api_token" -H 'Content-Type: application/json' --data-binary "@$2"
}
start_serve "${builds[0]}"
EBB_ADMIN_TOKEN=$admin_token "$ebb" publish "$out/model.json" --to "$url" --activate >&2
stop_serve

export EBB_HTTP_TOKEN=$api_token EBB_HTTP_BODIES=$root/$out/bodies.lua
results=$out/results.tsv
: >"$results"
load1() { cut -d' ' -f1 /proc/loadavg; }
for rep in $(seq 1 "$reps"); do
    for b in "${builds[@]}"; do
        start_serve "$b"
        [[ $(post /v1/predict "$out/customer.json") == 200 ]] || { cat "$out/answer.json" >&2; exit 1; }
        for c in 2 32; do
            for route in "GET /v1/openapi.yaml" "POST /v1/predict"; do
                export EBB_HTTP_METHOD=${route% *} EBB_HTTP_PATH=${route#* }
                wrk -t1 -c"$c" -d2s --timeout 10s -s bench/http/wrk.lua "$url" >/dev/null
                load=$(load1)
                rps=$(wrk -t1 -c"$c" -d"${seconds}s" --timeout 10s -s bench/http/wrk.lua "$url" |
                    sed -n 's/^WRKJSON //p' | python3 -c '
import json, sys
r = json.load(sys.stdin)
bad = sum(v for k, v in r.items() if k.startswith("errors_"))
rps = r["requests"] / (r["duration_us"] / 1e6)
print(f"{rps:.0f}" + (f" ({bad} errors)" if bad else ""))')
                printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$b" "$rep" "$c" "$route" "$rps" "$load" >>"$results"
                log "$b rep $rep, $c connections, $route: $rps requests/s (load $load)"
            done
        done
        stop_serve
    done
done

python3 - "$results" "$seconds" "$(git rev-parse --short HEAD)" <<'PY' | tee bench/out/http-ratio.md
import collections, statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
runs = collections.defaultdict(list)
loads = [float(r[5]) for r in rows]
for build, rep, c, route, rps, load in rows:
    runs[(build, int(c), route)].append(float(rps.split()[0]))
print(f"`bash bench/http-ratio.sh` at {sys.argv[3]}: wrk 1 thread, {sys.argv[2]} s per row after a 2 s warm-up, "
      f"median of 3 repetitions (min-max); 1-min load {min(loads):.1f}-{max(loads):.1f}.\n")
print("| build | connections | `GET /v1/openapi.yaml` req/s | `POST /v1/predict` req/s | predict / openapi |")
print("|---|---:|---:|---:|---:|")
for build in dict.fromkeys(r[0] for r in rows):
    for c in (2, 32):
        o = runs[(build, c, "GET /v1/openapi.yaml")]
        p = runs[(build, c, "POST /v1/predict")]
        span = lambda v: f"{statistics.median(v):,.0f} ({min(v):,.0f}-{max(v):,.0f})"
        print(f"| {build} | {c} | {span(o)} | {span(p)} | **{statistics.median(p) / statistics.median(o):.0%}** |")
PY
