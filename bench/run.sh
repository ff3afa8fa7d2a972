#!/usr/bin/env bash
# Ebb's benchmark against LightGBM, XGBoost, CatBoost and scikit-learn, in one command:
#   bash bench/run.sh        (or: make bench)
# Builds bench/ (ebb-bench) in release, installs the pinned reference libraries into bench/.venv
# (once), generates the synthetic data set, runs both sides on both data sets with the same
# splits and prints one side-by-side table. Everything it writes goes to bench/out/.
#
# Environment: EBB_CHURN_CSV  path of mlc_churn.csv (default: ../shared/data/ beside the repo)
#              EBB_BENCH_ROWS rows of the synthetic set (default 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=bench/out
venv=bench/.venv
rows=${EBB_BENCH_ROWS:-100000}
source bench/common.sh

echo "== building ebb-bench (release)" >&2
cargo build --release -p ebb-bench
bin=$CARGO_TARGET_DIR/release/ebb-bench

source bench/venv.sh
python_venv "$venv" bench/requirements.txt
py=$venv/bin/python

mkdir -p "$out"
echo "== generating $rows synthetic customers" >&2
"$bin" generate --rows "$rows" --seed 7 --out "$out/synth.csv"

echo "== synth: time split (latest snapshot months ~20% as test)" >&2
"$py" bench/splits.py --data "$out/synth.csv" --target churn --time snapshot_date --test-share 0.2 \
    --out "$out/synth.folds"
synth=(--data "$out/synth.csv" --folds "$out/synth.folds" --target churn --id customer_id
       --time snapshot_date --name synth)
"$bin" run "${synth[@]}" --out "$out/ebb_synth.json"
"$py" bench/reference.py "${synth[@]}" --out "$out/ref_synth.json"

echo "== mlc_churn: stratified 5-fold CV" >&2
"$py" bench/splits.py --data "$mlc" --target churn --cv 5 --seed 42 --out "$out/mlc.folds"
mlc_args=(--data "$mlc" --folds "$out/mlc.folds" --target churn --name mlc_churn)
"$bin" run "${mlc_args[@]}" --out "$out/ebb_mlc.json"
"$py" bench/reference.py "${mlc_args[@]}" --out "$out/ref_mlc.json"

"$py" bench/report.py --out "$out/results.json" --markdown "$out/report.md" \
    "$out/ebb_synth.json" "$out/ref_synth.json" "$out/ebb_mlc.json" "$out/ref_mlc.json"
