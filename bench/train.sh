#!/usr/bin/env bash
# Training speed, CSV to saved model (issue 13): `ebb train FILE --model gbdt --folds 2` against
# LightGBM doing the same protocol from the same CSV with pandas (bench/train.py), on generated
# customers, each under `/usr/bin/time -v`. Prints one table: CPU seconds (user + system), wall
# seconds, peak RSS, the ratios Ebb / LightGBM and both out-of-fold ROC-AUCs.
#   bash bench/train.sh            (installs bench/.venv like bench/run.sh on first use)
# Environment: EBB_TRAIN_ROWS  space-separated row counts (default "100000"; the issue's second
#                              size is 1000000, ~10 minutes of CPU per side)
#              EBB_TRAIN_TREES exactly this many rounds for both, no early stopping (e.g. 300:
#                              `ebb train --trees 300`); default: early stopping, Ebb's protocol
#              EBB_TRAIN_NICE  nice level of the timed jobs (default 10: the machine is shared)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=bench/out/train
venv=bench/.venv
source bench/common.sh

cargo build --release -p ebb-cli
ebb=$CARGO_TARGET_DIR/release/ebb
source bench/venv.sh
python_venv "$venv" bench/requirements.txt

mkdir -p "$out"
data=()
for rows in ${EBB_TRAIN_ROWS:-100000}; do
    file=$out/customers-$rows.csv
    [[ -f $file ]] || "$ebb" generate --rows "$rows" --seed 7 --out "$file"
    data+=(--data "$file")
done
trees=()
[[ -n ${EBB_TRAIN_TREES:-} ]] && trees=(--trees "$EBB_TRAIN_TREES")
nice -n "${EBB_TRAIN_NICE:-10}" "$venv/bin/python" bench/train.py run --ebb "$ebb" "${data[@]}" \
    --workdir "$out" "${trees[@]}"
