#!/usr/bin/env bash
# Ebb's drift report against Evidently's DataDriftPreset, in one command:
#   bash bench/drift.sh
# Builds ebb and ebb-bench in release, installs the pinned Evidently into bench/.venv-drift
# (once), generates a reference (seed 1) and a drifted current set (seed 2, drift 0.5), trains a
# quick model on the reference (ebb drift compares against the model artifact's reference; only
# the drift step is timed), then times both tools on the same two files and prints one table.
# Everything it writes goes to bench/out/drift/.
#
# Environment: EBB_DRIFT_ROWS rows of each set (default 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=bench/out/drift
venv=bench/.venv-drift
rows=${EBB_DRIFT_ROWS:-100000}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}

echo "== building ebb and ebb-bench (release)" >&2
cargo build --release -p ebb-cli -p ebb-bench
ebb=$CARGO_TARGET_DIR/release/ebb
bench=$CARGO_TARGET_DIR/release/ebb-bench

source bench/venv.sh
python_venv "$venv" bench/requirements-drift.txt

mkdir -p "$out"
echo "== generating $rows reference and $rows drifted customers" >&2
"$ebb" generate --rows "$rows" --seed 1 --out "$out/reference.csv" >/dev/null
"$ebb" generate --rows "$rows" --seed 2 --drift 0.5 --out "$out/current.csv" >/dev/null
echo "== training a logistic model on the reference (2 folds; not timed)" >&2
"$ebb" train "$out/reference.csv" --model logistic --folds 2 --out "$out/model.json" >/dev/null

echo "== timing" >&2
"$bench" drift --model "$out/model.json" --data "$out/current.csv" --repeats 3 \
    --out "$out/ebb_in_process.json"
"$venv/bin/python" bench/drift_compare.py --ebb "$ebb" --model "$out/model.json" \
    --reference "$out/reference.csv" --current "$out/current.csv" \
    --in-process "$out/ebb_in_process.json" --repeats 3 --out "$out/results.json" \
    | tee "$out/report.md"
