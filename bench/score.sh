#!/usr/bin/env bash
# Batch scoring, file to file, in one run: `ebb score` of 1,000,000 generated customers into a
# scores CSV with the boosted model and with the forest, against pandas read_csv + LightGBM
# predict + to_csv on the same file (bench/score.py). Prints one table of median wall and CPU
# seconds with the ratios.
#   bash bench/score.sh        (installs bench/.venv like bench/run.sh on first use)
# Environment: EBB_SCORE_ROWS rows to score (default 1000000)
#              EBB_SCORE_TRAIN_ROWS rows the models are trained on (default 100000)
#              EBB_SCORE_REPEATS runs of each job (default 3)
#              EBB_SCORE_FOREST=0 to leave the forest out (its training takes minutes)
#              EBB_SCORE_BASELINE another `ebb` binary (an earlier build, copied aside) that scores
#                the same models in the same run: a before/after table, outputs compared byte
#                for byte
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=bench/out/score
venv=bench/.venv
source bench/common.sh

cargo build --release -p ebb-cli
ebb=$CARGO_TARGET_DIR/release/ebb
source bench/venv.sh
python_venv "$venv" bench/requirements.txt

mkdir -p "$out"
"$ebb" generate --rows "${EBB_SCORE_TRAIN_ROWS:-100000}" --seed 7 --out "$out/train.csv"
"$ebb" generate --rows "${EBB_SCORE_ROWS:-1000000}" --seed 8 --out "$out/customers.csv"
echo "== training the models scored (not timed)" >&2
"$ebb" train "$out/train.csv" --model gbdt --out "$out/gbdt.json"
models=(--gbdt "$out/gbdt.json")
if [[ ${EBB_SCORE_FOREST:-1} != 0 ]]; then
    "$ebb" train "$out/train.csv" --model forest --out "$out/forest.json"
    models+=(--forest "$out/forest.json")
fi
if [[ -n ${EBB_SCORE_BASELINE:-} ]]; then
    models+=(--baseline "$EBB_SCORE_BASELINE")
fi
"$venv/bin/python" bench/score.py run --ebb "$ebb" --train "$out/train.csv" \
    --data "$out/customers.csv" "${models[@]}" --workdir "$out" --repeats "${EBB_SCORE_REPEATS:-3}"
