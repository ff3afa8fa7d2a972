#!/usr/bin/env bash
# Sequential loopback latency of the edge worker, to compare builds of its wasm (BENCHMARKS.md,
# "Worker wasm size"): a few minutes, where bench/http.sh takes ~9.
#
#   bash bench/worker-latency.sh [ROUNDS] BUILD_DIR...   # each a copy of worker/build/
#
# Trains one GBDT (300 trees, like bench/http.sh) on 2,000 generated customers, then, ROUNDS times
# (default 2), for each BUILD_DIR in turn (alternating, so drifting machine load hits every build
# alike): puts it in worker/build/, starts `wrangler dev` with a fresh state, publishes the model
# and sends N (default 2,000, EBB_LAT_N) `POST /v1/predict` and N/4 `?explain=3` one at a time on
# one keep-alive connection, after 100 warm-up requests. Prints p50/p90 in ms per build and round.
# worker/build/ holds the last BUILD_DIR afterwards: run `make worker` to restore it.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=2
[[ ${1:-} =~ ^[0-9]+$ ]] && { rounds=$1; shift; }
(($# > 0)) || { echo "usage: $0 [ROUNDS] BUILD_DIR..." >&2; exit 2; }
port=${EBB_LAT_PORT:-18797}
n=${EBB_LAT_N:-2000}
out=bench/out/worker-latency
ebb=target/release/ebb
[[ -x $ebb ]] || cargo build --release -p ebb-cli
mkdir -p "$out"
state=$out/state
trap 'bash scripts/worker.sh stop "$state"' EXIT

if [[ ! -f $out/model.json ]]; then
    "$ebb" generate --rows 2000 --seed 42 --out "$out/customers.csv" >/dev/null
    "$ebb" train "$out/customers.csv" --model gbdt --folds 2 --trees 300 --out "$out/model.json" \
        >"$out/train.log"
fi
token() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }
api_token=$(token)
admin_token=$(token)
printf 'API_TOKEN=%s\nADMIN_TOKEN=%s\n' "$api_token" "$admin_token" >"$out/dev.vars"
chmod 600 "$out/dev.vars"

for round in $(seq 1 "$rounds"); do
    for build in "$@"; do
        rm -rf worker/build
        cp -r "$build" worker/build
        rm -rf "$state"
        EBB_DEV_VARS=$out/dev.vars bash scripts/worker.sh start "$port" "$state"
        EBB_ADMIN_TOKEN=$admin_token "$ebb" publish "$out/model.json" --to "http://127.0.0.1:$port" \
            --activate >/dev/null
        python3 - "$port" "$api_token" "$out/customers.csv" "$n" "$build" "$round" <<'PY'
import csv, http.client, json, statistics, sys, time
port, token, path, n, build, rnd = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6]
def cell(v):
    try:
        x = float(v)
    except ValueError:
        return v
    return int(x) if x.is_integer() and "." not in v else x
with open(path, newline="") as f:
    bodies = [json.dumps({k: cell(v) for k, v in r.items() if k != "churn" and v != ""}).encode()
              for _, r in zip(range(200), csv.DictReader(f))]
conn = http.client.HTTPConnection("127.0.0.1", int(port))
head = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
def run(url, count):
    ms = []
    for i in range(count):
        t = time.perf_counter()
        conn.request("POST", url, bodies[i % len(bodies)], head)
        r = conn.getresponse()
        r.read()
        ms.append((time.perf_counter() - t) * 1000)
        if r.status != 200:
            sys.exit(f"{url}: HTTP {r.status}")
    return ms
run("/v1/predict", 100)
for url, count in (("/v1/predict", n), ("/v1/predict?explain=3", n // 4)):
    ms = sorted(run(url, count))
    q = statistics.quantiles(ms, n=10)
    print(f"{build}\tround {rnd}\t{url}\tn={count}\tp50 {q[4]:.3f} ms\tp90 {q[8]:.3f} ms", flush=True)
PY
        bash scripts/worker.sh stop "$state"
    done
done
