#!/usr/bin/env bash
# Ebb's edge API over HTTP against the seeds' serving stack, in one command:
#   bash bench/http.sh        (or: make bench-http)
# Generates 20,000 customers, trains an Ebb GBDT and publishes it to a local `wrangler dev`
# worker (scripts/worker.sh), trains LightGBM (300 trees, 31 leaves) on the same CSV and serves
# it with FastAPI + uvicorn (one worker), then loads each with wrk (one real customer per
# request, 2 and 32 connections) and prints one markdown table, also written to
# bench/out/http.md. Also: per-customer compute from POST /v1/predict/batch, cold start, wasm
# size, and the same load straight at workerd (skipping wrangler dev's proxy). Work files go to
# bench/out/http/. Everything started is stopped on exit.
#
# Production-like rows ("workerd, production-like"): `wrangler dev` is a development server and
# costs ~3-5 ms of CPU per request on top of the worker, even for a constant route: it records a
# trace of every request into a local SQLite store for its local observability UI (a streaming
# tail worker -> a Durable Object; on by default, X_LOCAL_OBSERVABILITY=false turns it off), posts
# a log line per request from workerd to Node ("[wrangler:info] GET ... 200"), and puts a proxy
# workerd, Miniflare's entry worker and the [assets] router in front of the worker. None of that
# exists in production. So after the wrangler dev rows the same worker is loaded again through
# bench/http/serve.mjs: Miniflare (the library wrangler dev itself runs on) starts workerd with the
# same build (worker/build/index.js + index_bg.wasm), wrangler.toml's bindings, vars and
# compatibility date, the same secrets, and the same local KV and D1 simulators on the same state
# directory (the model wrangler dev got from `ebb publish`, its D1 tables), and exposes a socket
# straight to the worker (no entry worker, no request logging, no observability, no inspector, no
# dev registry). The requests are the same (same wrk script, bodies, token); predictions are still
# logged to D1 with wait_until. What it leaves out: production's assets router (API routes are
# run_worker_first) and request.cf (the worker does not read it). What it keeps that production
# does not have: KV and D1 simulated in the same workerd thread as the worker, so the batched
# prediction log (one D1 INSERT every 100 ms, worker/src/store.rs) takes ~5 ms of that thread per
# flush locally, which shows in p90/p99; in production D1 runs elsewhere and the worker only waits.
#
# Environment: EBB_HTTP_SECONDS  seconds per wrk run (default 15)
#              EBB_HTTP_PORT     first of the six local ports used (default 18787)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=bench/out/http
venv=bench/.venv-http
seconds=${EBB_HTTP_SECONDS:-15}
warmup=3
connections=(2 32)
threads=1
rows=20000
port=${EBB_HTTP_PORT:-18787}
base_port=$((port + 1))
url=http://127.0.0.1:$port
base_url=http://127.0.0.1:$base_port
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
# LightGBM uses OpenMP; sleeping waits keep it sane on a shared machine (see bench/run.sh).
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
source scripts/env.sh
log() { echo "== $*" >&2; }

state=$out/state
base_pidfile=$out/uvicorn.pid
prod_pidfile=$out/serve.pid
stop_group() { # PIDFILE: stop the process group whose id it holds
    [[ -f $1 ]] || return 0
    local pg
    pg=$(cat "$1")
    kill -TERM -- "-$pg" 2>/dev/null || true
    for _ in $(seq 1 50); do
        kill -0 -- "-$pg" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL -- "-$pg" 2>/dev/null || true
    rm -f "$1"
}
stop_all() {
    bash scripts/worker.sh stop "$state" 2>/dev/null || true
    stop_group "$prod_pidfile"
    stop_group "$base_pidfile"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

if ! command -v wrk >/dev/null; then
    log "installing wrk"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi
[[ -f worker/build/index_bg.wasm ]] || { log "building the worker"; bash scripts/worker.sh build; }
log "building ebb (release)"
cargo build --release -p ebb-cli
ebb=$CARGO_TARGET_DIR/release/ebb

source bench/venv.sh
python_venv "$venv" bench/requirements-http.txt
py=$venv/bin/python

stop_all
rm -rf "$out"
mkdir -p "$out"
log "generating $rows customers; training Ebb and LightGBM on them"
"$ebb" generate --rows "$rows" --seed 42 --out "$out/customers.csv" >/dev/null
"$py" bench/http/bodies.py "$out/customers.csv" "$out" --lua 100 --batch 1000
# The same shape as the baseline: exactly 300 trees (no early stopping).
ebb_train="ebb train customers.csv --model gbdt --folds 2 --trees 300"
"$ebb" train "$out/customers.csv" --model gbdt --folds 2 --trees 300 --out "$out/model.json" >"$out/train.log"
(cd bench/http && "../../$py" train_lgbm.py "../../$out/customers.csv" "../../$out")

token() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }
api_token=$(token)
admin_token=$(token)
printf 'API_TOKEN=%s\nADMIN_TOKEN=%s\n' "$api_token" "$admin_token" >"$out/dev.vars"
chmod 600 "$out/dev.vars"

results=$out/results.jsonl
: >"$results"
: >"$out/pauses.jsonl"
load1() { cut -d' ' -f1 /proc/loadavg; }
# bench KEY NAME BASE_URL PATH CONNECTIONS [METHOD]
bench() {
    local key=$1 name=$2 base=$3 path=$4 c=$5 file
    file=$out/wrk_${key}_$c.txt
    export EBB_HTTP_BODIES=$root/$out/bodies.lua EBB_HTTP_PATH=$path EBB_HTTP_METHOD=${6:-POST}
    wrk -t"$threads" -c"$c" -d"${warmup}s" --timeout 10s -s bench/http/wrk.lua "$base" >/dev/null
    local load
    load=$(load1)
    wrk -t"$threads" -c"$c" -d"${seconds}s" --timeout 10s --latency -s bench/http/wrk.lua "$base" >"$file"
    grep -E 'Requests/sec|Non-2xx|99%' "$file" | tr -s ' ' | paste -sd' ' | sed "s|^|$name, $c connections: |" >&2
    sed -n 's/^WRKJSON //p' "$file" | "$py" -c '
import json, sys
r = json.load(sys.stdin)
r.update(key=sys.argv[1], name=sys.argv[2], connections=int(sys.argv[3]), load1=sys.argv[4])
print(json.dumps(r))' "$key" "$name" "$c" "$load" >>"$results"
}
post() { # URL BODY_FILE -> "HTTP_CODE SECONDS", the answer in $out/answer.json
    curl -s -o "$out/answer.json" -w '%{http_code} %{time_total}\n' -X POST "$1" \
        -H "Authorization: Bearer $api_token" -H 'Content-Type: application/json' --data-binary "@$2"
}
median_ms() { sort -n | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.3f %.3f %.3f\n", m * 1000, v[1] * 1000, v[NR] * 1000 }'; }

log "starting the worker (cold start: fresh state directory)"
t0=$(date +%s.%N)
EBB_DEV_VARS=$out/dev.vars bash scripts/worker.sh start "$port" "$state"
until [[ $(curl -s -o /dev/null -w '%{http_code}' "$url/v1/app-info") == 200 ]]; do sleep 0.05; done
cold_s=$(echo "$(date +%s.%N) - $t0" | bc)
EBB_ADMIN_TOKEN=$admin_token "$ebb" publish "$out/model.json" --to "$url" --activate >&2
read -r code first_s < <(post "$url/v1/predict" "$out/customer.json")
[[ $code == 200 ]] || { cat "$out/answer.json" >&2; exit 1; }
warm=$(for _ in $(seq 1 9); do post "$url/v1/predict" "$out/customer.json"; done | awk '{print $2}' | median_ms | cut -d' ' -f1)

export EBB_HTTP_TOKEN=$api_token
for c in "${connections[@]}"; do
    bench worker 'worker `POST /v1/predict`' "$url" /v1/predict "$c"
    bench worker_explain 'worker `POST /v1/predict?explain=3`' "$url" '/v1/predict?explain=3' "$c"
done
# The floor: a public route answered from a constant (no KV read, no model, no D1 write).
bench floor 'worker `GET /v1/openapi.yaml` (floor: no storage, no model)' "$url" /v1/openapi.yaml 2 GET

log "in-worker compute: POST /v1/predict/batch with 1000 customers"
batch_runs=20
batch() { # QUERY RUNS -> median min max (ms)
    post "$url/v1/predict/batch$1" "$out/batch.json" >/dev/null # warm-up
    for _ in $(seq 1 "$2"); do
        read -r code s < <(post "$url/v1/predict/batch$1" "$out/batch.json")
        [[ $code == 200 ]] || { cat "$out/answer.json" >&2; exit 1; }
        echo "$s"
    done | median_ms
}
read -r b_med b_min b_max < <(batch "" "$batch_runs")
grep -q '"count":1000' "$out/answer.json" || { echo "batch: unexpected answer" >&2; exit 1; }
read -r e_med _ _ < <(batch "?explain=3" 10)

# wrangler dev = a proxy workerd on the public port in front of the worker's own workerd, whose
# entry socket is on a random loopback port: find it (the listening port of a workerd in
# wrangler's process group, other than the public one, that answers /v1/app-info) and load it
# directly too.
direct=
pg=$(cat "$state/wrangler.pid")
for pid in $(pgrep -g "$pg" workerd || true); do
    for p in $(ss -ltnpH "( sport != :$port )" | grep "pid=$pid," | awk '{print $4}' | sed 's/.*://'); do
        if curl -s -m 2 "http://127.0.0.1:$p/v1/app-info" | grep -q '"name":"ebb"'; then
            direct=$p
            break 2
        fi
    done
done
if [[ -n $direct ]]; then
    log "workerd's own entry port: $direct"
    for c in "${connections[@]}"; do
        bench workerd "workerd directly (port $direct, no proxy) \`POST /v1/predict\`" "http://127.0.0.1:$direct" /v1/predict "$c"
    done
    bench floor_direct 'workerd directly `GET /v1/openapi.yaml` (floor)' "http://127.0.0.1:$direct" /v1/openapi.yaml 2 GET
    read -r d_med _ _ < <(url=http://127.0.0.1:$direct batch "" 10)
else
    log "workerd's own port not found; only the proxied numbers"
    d_med=
fi
bash scripts/worker.sh stop "$state"

# Production-like: the same worker, KV and D1 state, without wrangler dev's tooling (see the header).
prod_port=$((port + 2))
prod_url=http://127.0.0.1:$((port + 3))
log "starting the worker production-like (bench/http/serve.mjs: Miniflare, direct socket $prod_url)"
setsid bash -c 'echo $$ >"$0"; exec node bench/http/serve.mjs "$1" "$2" "$3" "$4"' \
    "$prod_pidfile" "$prod_port" "$((port + 3))" "$state" "$out/dev.vars" >"$out/serve.log" 2>&1 </dev/null &
for _ in $(seq 1 300); do
    curl -s -o /dev/null "$prod_url/v1/app-info" && break
    [[ ! -f $prod_pidfile ]] || kill -0 "$(cat "$prod_pidfile")" 2>/dev/null || break
    sleep 0.2
done
read -r code _ < <(post "$prod_url/v1/predict" "$out/customer.json")
[[ $code == 200 ]] || { cat "$out/serve.log" "$out/answer.json" >&2; exit 1; }
for c in "${connections[@]}"; do
    bench prod 'workerd, production-like (direct socket) `POST /v1/predict`' "$prod_url" /v1/predict "$c"
    bench prod_explain 'workerd, production-like `POST /v1/predict?explain=3`' "$prod_url" '/v1/predict?explain=3' "$c"
done
bench floor_prod 'workerd, production-like `GET /v1/openapi.yaml` (floor)' "$prod_url" /v1/openapi.yaml 2 GET
# The same predictions without wrk's coordinated-omission correction (bench/http/pauses.mjs).
pauses() { # NAME URL [BODIES TOKEN] -> one JSON line into $out/pauses.jsonl
    node bench/http/pauses.mjs "$2" "$seconds" "${@:3}" | sed -n 's/^PAUSESJSON //p' |
        "$py" -c 'import json, sys; r = json.load(sys.stdin); r["name"] = sys.argv[1]; print(json.dumps(r))' "$1" >>"$out/pauses.jsonl"
}
pauses 'workerd, production-like `POST /v1/predict`' "$prod_url/v1/predict" "$out/bodies.jsonl" "$api_token"
# The same instance through Miniflare's entry socket (its entry worker in front; no logging).
bench floor_entry 'workerd through the Miniflare entry worker `GET /v1/openapi.yaml` (floor)' "http://127.0.0.1:$prod_port" /v1/openapi.yaml 2 GET
read -r p_med _ _ < <(url=$prod_url batch "" 10)
stop_group "$prod_pidfile"

# The runtime's floor: the smallest JavaScript worker (bench/http/hello.mjs) on the same workerd,
# served the same way. No worker can be faster here; its tail is workerd's own.
log "starting the JavaScript floor worker (bench/http/serve.mjs --hello)"
js_url=http://127.0.0.1:$((port + 5))
setsid bash -c 'echo $$ >"$0"; exec node bench/http/serve.mjs "$1" "$2" "$3" "$4" --hello' \
    "$prod_pidfile" "$((port + 4))" "$((port + 5))" "$out/hello-state" "$out/dev.vars" >"$out/hello.log" 2>&1 </dev/null &
for _ in $(seq 1 300); do
    curl -sf -o /dev/null "$js_url/" && break
    sleep 0.2
done
curl -sf -o /dev/null "$js_url/" || { cat "$out/hello.log" >&2; exit 1; }
for c in "${connections[@]}"; do
    bench floor_js 'workerd, production-like, smallest JavaScript worker (runtime floor)' "$js_url" / "$c" GET
done
pauses 'workerd, production-like, smallest JavaScript worker' "$js_url/"
stop_group "$prod_pidfile"

# start_baseline LOG [ENV=VALUE...]: FastAPI + uvicorn (1 worker) on $base_port, checked with one
# prediction. setsid gives uvicorn its own process group; the pid file holds that group's id.
start_baseline() {
    local log_file=$1
    shift
    env "$@" EBB_HTTP_MODEL_DIR="$root/$out" EBB_HTTP_TOKEN="$api_token" setsid bash -c \
        'echo $$ >"$0"; exec "$1" -m uvicorn app:app --app-dir bench/http --host 127.0.0.1 --port "$2" --workers 1 --log-level warning --no-access-log' \
        "$base_pidfile" "$py" "$base_port" >"$log_file" 2>&1 </dev/null &
    for _ in $(seq 1 150); do
        curl -sf -o /dev/null "$base_url/health" && break
        sleep 0.2
    done
    read -r code _ < <(post "$base_url/predict" "$out/customer.json")
    [[ $code == 200 ]] || { cat "$log_file" "$out/answer.json" >&2; exit 1; }
}
log "starting the baseline (FastAPI + uvicorn, 1 worker)"
start_baseline "$out/uvicorn.log"
for c in "${connections[@]}"; do
    bench baseline 'FastAPI + uvicorn + LightGBM `POST /predict`' "$base_url" /predict "$c"
done
pauses 'FastAPI + uvicorn + LightGBM `POST /predict`' "$base_url/predict" "$out/bodies.jsonl" "$api_token"
stop_group "$base_pidfile"
# The same service building a one-row pandas DataFrame per request (app.py).
log "starting the pandas-per-request baseline"
start_baseline "$out/uvicorn-pandas.log" EBB_HTTP_FRAME=1
for c in "${connections[@]}"; do
    bench baseline_pandas 'FastAPI + uvicorn + LightGBM, one-row pandas DataFrame per request' "$base_url" /predict "$c"
done
stop_all
# For scale: the baseline's per-customer work without HTTP (features + LightGBM, one at a time).
base_us=$(cd bench/http && "../../$py" -c '
import json, sys, time
import lightgbm as lgb
from features import codes, vector
d = sys.argv[1]
b = lgb.Booster(model_file=d + "/lgbm.txt")
lookup = codes(json.load(open(d + "/lgbm_meta.json"))["categories"])
cs = json.load(open(d + "/batch.json"))["customers"]
best = 1e9
for _ in range(3):
    t = time.perf_counter()
    for c in cs:
        b.predict(vector(c, lookup), num_threads=1)
    best = min(best, (time.perf_counter() - t) / len(cs))
print(f"{best * 1e6:.1f}")' "$root/$out")

log "report"
wasm=worker/build/index_bg.wasm
"$py" - "$out/facts.json" <<PY
import json, sys, importlib.metadata as m
model = json.load(open("$out/model.json"))
lgbm = json.load(open("$out/lgbm_meta.json"))
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
b_med = float("$b_med")
facts = {
    "command": "bash bench/http.sh",
    "commit": "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!BENCHMARKS.md' || echo +changes)",
    "machine": f"$(nproc) CPUs ({cpu}), shared with other work; 1-min load average at the start of each run in the table",
    "rows": $rows,
    "ebb_train": "$ebb_train",
    "ebb_trees": len(model["model"]["trees"]),
    "ebb_model_bytes": $(stat -c %s "$out/model.json"),
    "workerd": "$(workerd --version 2>/dev/null | awk '{print $NF}'), wrangler $(wrangler --version 2>/dev/null | tail -n 1 | awk '{print $NF}')",
    "fastapi": m.version("fastapi"), "uvicorn": m.version("uvicorn"), "lightgbm": m.version("lightgbm"),
    "lgbm_trees": lgbm["trees"],
    "wrk_threads": $threads, "seconds": $seconds, "warmup": $warmup, "bodies": 100,
    "batch": {"customers": 1000, "bytes": $(stat -c %s "$out/batch.json"), "runs": $batch_runs,
              "median_ms": b_med, "min_ms": float("$b_min"), "max_ms": float("$b_max"),
              "us_per_customer": b_med},
    "batch_explain": {"runs": 10, "median_ms": float("$e_med"), "us_per_customer": float("$e_med")},
    "baseline_batch": {"customers": 1000, "us_per_customer": float("$base_us")},
    "cold": {"seconds": float("$cold_s"), "first_predict_ms": float("$first_s") * 1000,
             "warm_predict_ms": float("$warm")},
    "wasm_bytes": $(stat -c %s "$wasm"), "wasm_gzip": $(gzip -9 -c "$wasm" | wc -c),
    "direct_port": "$direct", "direct_batch_ms": "$d_med", "prod_batch_ms": "$p_med",
}
json.dump(facts, open(sys.argv[1], "w"), indent=1)
PY
"$py" bench/http/report.py "$results" "$out/facts.json" "$out/pauses.jsonl" | tee bench/out/http.md
