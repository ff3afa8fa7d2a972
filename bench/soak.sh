#!/usr/bin/env bash
# Load, soak, restart and faults of the edge worker under `wrangler dev`, on loopback:
#   bash bench/soak.sh              (5-minute soak; EBB_SOAK_MINUTES=1 to shorten)
# Generates 20,000 customers and trains an Ebb GBDT on them as bench/http.sh does, plus six small
# logistic models for the registry changes, starts the worker with scripts/worker.sh on a fresh
# state directory, publishes the GBDT (`ebb publish --activate`), then runs bench/http/soak.mjs:
#   1. soak: EBB_SOAK_MINUTES minutes of mixed traffic at 32 connections (predict, predict with
#      ?explain=3, batches of 100, labels, monitoring), one row per minute: requests, req/s,
#      p50/p99, unexpected non-2xx, the RSS of this run's workerd processes (wrangler dev's
#      process group: the worker's own, which also hosts the local KV and D1, and wrangler's
#      proxy) sampled every 5 s as min–max, the size of the local D1 files, and the isolate's
#      own memory: its wasm linear memory (`ebb_wasm_memory_bytes` of /metrics) and its V8 heap
#      (Runtime.getHeapUsage through wrangler's inspector on port PORT+1); then the memory after
#      30 s without load and each one's growth per minute after the first minute (least
#      squares over the samples, all in bench/out/soak/memory.tsv).
#   2. restart: the same load plus an admin publishing the six models then activating published
#      versions; halfway, wrangler dev's whole process group is SIGKILLed and started again on the
#      same state directory; afterwards every acknowledged label (DELETE /v1/customers/{id} says
#      how many labels it removed) and every acknowledged publish and activation (GET /v1/models:
#      versions, activation history) is looked up.
#   3. fault: the worker is stopped, the active version's artifact is overwritten in the local KV
#      with a corrupt one (as tests/tests/worker.rs does), the worker started again and loaded
#      with predictions: each must be a 200 from the previous active version with degraded: true.
# Prints markdown tables, also written to bench/out/soak.md; work files in bench/out/soak/.
# Everything started is stopped on exit.
#
# Environment: EBB_SOAK_MINUTES   soak minutes (default 5)
#              EBB_SOAK_RESTART_SECONDS, EBB_SOAK_FAULT_SECONDS   phase lengths (default 60, 20)
#              EBB_SOAK_PORT      the worker's local port (default 18797; the inspector's is the next)
#              EBB_SOAK_MIX       one kind of request only in the soak phase: health, predict,
#                                 explain, batch, labels or monitoring (default: mixed)
#              EBB_SOAK_ONLY=1    run the soak phase only (no restart, no fault): a memory
#                                 comparison of two worker builds needs nothing else
#              EBB_SOAK_SERVER    wrangler (default: `wrangler dev`, as `make run`) or
#                                 production-like: the same build, bindings, KV and D1 simulators
#                                 in bench/http/serve.mjs (Miniflare -> workerd, a socket straight
#                                 to the worker, none of wrangler dev's extras; see bench/http.sh);
#                                 no inspector there, so no V8 heap column; needs EBB_SOAK_ONLY=1
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=bench/out/soak
minutes=${EBB_SOAK_MINUTES:-5}
restart_seconds=${EBB_SOAK_RESTART_SECONDS:-60}
fault_seconds=${EBB_SOAK_FAULT_SECONDS:-20}
port=${EBB_SOAK_PORT:-18797}
soak_only=${EBB_SOAK_ONLY:-0}
server=${EBB_SOAK_SERVER:-wrangler}
url=http://127.0.0.1:$port
rows=20000
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
source scripts/env.sh
log() { echo "== $*" >&2; }
[[ $minutes =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "EBB_SOAK_MINUTES must be a number of minutes, got '$minutes'" >&2; exit 2; }
[[ $soak_only == 0 || $soak_only == 1 ]] || { echo "EBB_SOAK_ONLY must be 0 or 1, got '$soak_only'" >&2; exit 2; }
[[ $server == wrangler || $server == production-like ]] ||
    { echo "EBB_SOAK_SERVER must be wrangler or production-like, got '$server'" >&2; exit 2; }
[[ $server == wrangler || $soak_only == 1 ]] ||
    { echo "EBB_SOAK_SERVER=production-like needs EBB_SOAK_ONLY=1 (the restart and fault phases drive wrangler dev)" >&2; exit 2; }

state=$out/state
trap 'bash scripts/worker.sh stop "$state" 2>/dev/null || true' EXIT
trap 'exit 130' INT TERM

[[ -f worker/build/index_bg.wasm ]] || { log "building the worker"; bash scripts/worker.sh build; }
log "building ebb (release)"
cargo build --release -p ebb-cli
ebb=$CARGO_TARGET_DIR/release/ebb

bash scripts/worker.sh stop "$state" 2>/dev/null || true
rm -rf "$out"
mkdir -p "$out/models"
log "generating $rows customers; training the served GBDT and six small models for the registry"
"$ebb" generate --rows "$rows" --seed 42 --out "$out/customers.csv" >/dev/null
python3 bench/http/bodies.py "$out/customers.csv" "$out" --lua 100 --batch 100
"$ebb" train "$out/customers.csv" --model gbdt --folds 2 --trees 300 --out "$out/model.json" >"$out/train.log"
"$ebb" generate --rows 2000 --seed 7 --out "$out/small.csv" >/dev/null
for k in 1 2 3 4 5 6; do
    "$ebb" train "$out/small.csv" --model logistic --folds 2 --seed "$k" --out "$out/models/$k.json" >>"$out/train.log"
done

token() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }
printf 'API_TOKEN=%s\nADMIN_TOKEN=%s\n' "$(token)" "$(token)" >"$out/dev.vars"
chmod 600 "$out/dev.vars"
export EBB_DEV_VARS=$out/dev.vars
admin_token=$(sed -n 's/^ADMIN_TOKEN=//p' "$out/dev.vars")

if [[ $server == wrangler ]]; then
    log "starting the worker (wrangler dev, port $port, inspector $((port + 1)), state $state)"
    export EBB_INSPECTOR_PORT=$((port + 1)) EBB_SOAK_INSPECTOR_PORT=$((port + 1))
    bash scripts/worker.sh start "$port" "$state"
else
    log "starting the worker production-like (bench/http/serve.mjs, direct socket $url, state $state)"
    mkdir -p "$state"
    wrangler d1 migrations apply EBB --local --persist-to "$state" >"$state/migrations.log" 2>&1 ||
        { cat "$state/migrations.log" >&2; exit 1; }
    # Its own process group with the pid where scripts/worker.sh stop looks for it.
    setsid bash -c 'echo $$ >"$0/wrangler.pid"; exec node bench/http/serve.mjs "$1" "$2" "$0" "$3"' \
        "$state" "$((port + 1))" "$port" "$out/dev.vars" >"$state/serve.log" 2>&1 </dev/null &
    for _ in $(seq 1 300); do
        curl -s -o /dev/null "$url/v1/app-info" && break
        sleep 0.2
    done
    curl -s -o /dev/null "$url/v1/app-info" || { cat "$state/serve.log" >&2; exit 1; }
fi
EBB_ADMIN_TOKEN=$admin_token "$ebb" publish "$out/model.json" --to "$url" --activate >&2
gbdt=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["model_id"])' "$out/model.json")

report=$out/report.md
{
    echo "Command: \`bash bench/soak.sh\` (EBB_SOAK_MINUTES=$minutes, EBB_SOAK_SERVER=$server), commit $(git rev-parse --short HEAD)."
    echo "Machine: $(nproc) CPUs ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)), shared with other work; load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo
    echo "**Soak**: 32 connections, ${EBB_SOAK_MIX:-mixed} traffic, $minutes minutes."
    echo
} >"$report"
log "soak: $minutes minutes at 32 connections"
node bench/http/soak.mjs soak "$port" "$out" "$state" "$(echo "$minutes * 60" | bc)" | tee "$out/soak.txt" |
    grep -v '^SOAKJSON' | tee -a "$report"
python3 - "$out/soak.txt" >>"$report" <<'PY'
import json, sys
r = json.loads(next(l for l in open(sys.argv[1]) if l.startswith("SOAKJSON "))[9:])
print()
print(f"Total {r['requests']} requests ({', '.join(f'{k} {v}' for k, v in sorted(r['by_route'].items()))}); "
      f"answers {', '.join(f'{k}: {v}' for k, v in sorted(r['statuses'].items()))}; unexpected non-2xx: {r['unexpected']}.")
for s in r["unexpected_samples"]:
    print(f"- unexpected: `{s}`")
PY

finish() {
    bash scripts/worker.sh stop "$state"
    mkdir -p bench/out
    cp "$report" bench/out/soak.md
    cat "$report"
}
if [[ $soak_only == 1 ]]; then
    finish
    exit 0
fi

log "restart: ${restart_seconds} s of load and admin changes, wrangler dev killed halfway"
node bench/http/soak.mjs restart "$port" "$out" "$state" "$restart_seconds" >"$out/restart.txt"
python3 - "$out/restart.txt" "$restart_seconds" >>"$report" <<'PY'
import json, sys
r = json.loads(next(l for l in open(sys.argv[1]) if l.startswith("SOAKJSON "))[9:])
b = r["before_kill"]
print()
print(f"**Restart during load** ({sys.argv[2]} s at 32 connections + one admin; wrangler dev's process group "
      f"SIGKILLed at half time and started again on the same state directory): down {r['down_ms'] / 1000:.1f} s "
      f"(kill to the first answered prediction, including the D1 migration check and wrangler's start-up); "
      f"{r['refused']} requests refused while down; unexpected non-2xx otherwise: {r['unexpected']}.")
print()
print("| acknowledged (2xx) change | before the kill | in all | found after the restart |")
print("|---|---:|---:|---:|")
print(f"| labels (customers; `DELETE /v1/customers/{{id}}` removed 1 label) | {b['labels']} | {r['labels']['acked']} | {r['labels']['found']} |")
print(f"| publishes (`GET /v1/models` lists the version) | {b['publishes']} | {r['publishes']['acked']} | {r['publishes']['found']} |")
print(f"| activations (in the activation history, same version and time) | {b['activations']} | {r['activations']['acked']} | {r['activations']['found']} |")
print()
print(f"Active version after the run is the last acknowledged activation: {r['active_is_last_acked']}. "
      f"Answers: {', '.join(f'{k}: {v}' for k, v in sorted(r['statuses'].items()))}.")
for s in r["unexpected_samples"] + r["labels"]["missing"]:
    print(f"- `{s}`")
PY

log "fault: a corrupt artifact stored as the active version"
# Make the GBDT the previous active version and one small model the active one, then corrupt the
# active one's artifact in KV while the worker is stopped.
small=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["model_id"])' "$out/models/1.json")
for v in "$gbdt" "$small"; do
    code=$(curl -s -o "$out/answer.json" -w '%{http_code}' -X POST "$url/v1/models/$v/activate" -H "Authorization: Bearer $admin_token")
    [[ $code == 200 ]] || { cat "$out/answer.json" >&2; exit 1; }
done
bash scripts/worker.sh stop "$state"
wrangler kv key put --binding MODELS --local --persist-to "$state" "model:$small" '{"format_version": 1, "broken": true}' >"$out/kv.log" 2>&1 ||
    { cat "$out/kv.log" >&2; exit 1; }
printf '{"corrupted": "%s", "expected": "%s"}\n' "$small" "$gbdt" >"$out/fault.json"
bash scripts/worker.sh start "$port" "$state"
node bench/http/soak.mjs fault "$port" "$out" "$state" "$fault_seconds" >"$out/fault.txt"
python3 - "$out/fault.txt" >>"$report" <<'PY'
import json, sys
r = json.loads(next(l for l in open(sys.argv[1]) if l.startswith("SOAKJSON "))[9:])
print()
print(f"**Fault** (the active version's artifact overwritten in KV with `{{\"format_version\": 1, \"broken\": true}}`, "
      f"worker restarted, {r['seconds']:.0f} s of predictions at 32 connections): {r['requests']} requests, "
      f"{r['statuses'].get('200', 0)} answered 200, {r['degraded']} with `degraded: true`, "
      f"{r['served_by_expected']} served by the previous active version, 5xx: {r['fivexx']}, "
      f"other non-2xx: {r['unexpected'] - r['fivexx']}; p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms; "
      f"`/v1/health` status: `{r['health_status']}`.")
for s in r["unexpected_samples"]:
    print(f"- `{s}`")
PY
finish
