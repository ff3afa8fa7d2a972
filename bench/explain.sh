#!/usr/bin/env bash
# Ebb's exact TreeSHAP against the `shap` package's TreeExplainer, side by side:
#   bash bench/explain.sh
# Builds ebb-bench (release), installs the pinned reference libraries into bench/.venv (once),
# generates EBB_EXPLAIN_ROWS synthetic customers (default 10000, seed 7), trains a 300-tree,
# 31-leaf boosted model on them in Ebb and LightGBM (on Ebb's feature matrix), and times both
# explainers on the first 1,000 rows, one thread each. Takes about a minute; writes to
# bench/out/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=bench/out
venv=bench/.venv
rows=${EBB_EXPLAIN_ROWS:-10000}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
# One thread for every pool on the reference side (LightGBM/OpenMP, BLAS).
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

echo "== building ebb-bench (release)" >&2
cargo build --release -p ebb-bench
bin=$CARGO_TARGET_DIR/release/ebb-bench

source bench/venv.sh
python_venv "$venv" bench/requirements.txt
py=$venv/bin/python

mkdir -p "$out"
echo "== generating $rows synthetic customers" >&2
"$bin" generate --rows "$rows" --seed 7 --out "$out/explain_synth.csv"
echo "== Ebb: train 300 trees x 31 leaves, explain" >&2
"$bin" explain --data "$out/explain_synth.csv" --rows 1000 --matrix "$out/explain_features.csv" \
    --out "$out/ebb_explain.json" > /dev/null
echo "== LightGBM + shap TreeExplainer" >&2
"$py" bench/explain.py --matrix "$out/explain_features.csv" --rows 1000 \
    --ebb "$out/ebb_explain.json" --out "$out/ref_explain.json" | tee "$out/explain.md"
