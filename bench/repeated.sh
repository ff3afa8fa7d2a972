#!/usr/bin/env bash
# Accuracy only, with less fold noise than bench/run.sh: repeated stratified 5-fold CV on
# mlc_churn (fold seeds 42, 43, 44 by default), every library fitted on the same folds of each
# repetition (Ebb's defaults through ebb-bench, the references through reference.py, CatBoost
# included), no 1M-row scoring. One table of means over folds and repetitions.
#   bash bench/repeated.sh        (after bench/run.sh has installed bench/.venv)
# Environment: EBB_CHURN_CSV  path of mlc_churn.csv (default: ../shared/data/ beside the repo)
#              EBB_BENCH_SEEDS fold seeds (default "42 43 44")
#              EBB_BENCH_EBB_MODELS, EBB_BENCH_REF_MODELS  comma-separated models for ebb-bench
#                             (e.g. gbdt,gbdt_encoded) and reference.py (default: all of each)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=bench/out/repeated
source bench/common.sh
py=bench/.venv/bin/python
[[ -x $py ]] || { echo "bench: bench/.venv missing; run bash bench/run.sh once" >&2; exit 1; }

cargo build --release -p ebb-bench
bin=$CARGO_TARGET_DIR/release/ebb-bench
mkdir -p "$out"
inputs=()
for seed in ${EBB_BENCH_SEEDS:-42 43 44}; do
    echo "== mlc_churn: stratified 5-fold CV, fold seed $seed" >&2
    "$py" bench/splits.py --data "$mlc" --target churn --cv 5 --seed "$seed" --out "$out/mlc_$seed.folds"
    args=(--data "$mlc" --folds "$out/mlc_$seed.folds" --target churn --name mlc_churn --no-scoring)
    "$bin" run "${args[@]}" ${EBB_BENCH_EBB_MODELS:+--models "$EBB_BENCH_EBB_MODELS"} \
        --out "$out/ebb_$seed.json"
    "$py" bench/reference.py "${args[@]}" ${EBB_BENCH_REF_MODELS:+--models "$EBB_BENCH_REF_MODELS"} \
        --out "$out/ref_$seed.json"
    inputs+=("$out/ebb_$seed.json" "$out/ref_$seed.json")
done
"$py" bench/report.py --out "$out/results.json" --markdown "$out/report.md" "${inputs[@]}"
