#!/usr/bin/env bash
# Rebuilds fuzz/fixtures/ (the small valid models the artifact and predict targets start from)
# and the artifact_score seeds with the CLI: 300 generated customers, one small model of each
# family. Committed, so fuzzing needs no training; rerun after a change of the artifact format.
# Uses the dev build (optimised, see the root Cargo.toml) to spare a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
ebb=target/debug/ebb
cargo build -q -p ebb-cli
out=fuzz/fixtures
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$ebb" generate --rows 300 --seed 1 --out "$tmp/all.csv" >/dev/null
# Ten of the 26 columns (id, snapshot date, numbers with and without missing values, categories,
# yes/no, the target) and few trees keep each artifact small: every execution parses,
# re-stamps and loads one, and instrumented JSON code is slow, so size is executions.
cut -d, -f1,2,4,6,7,10,11,12,14,25,26 "$tmp/all.csv" >"$tmp/customers.csv"
"$ebb" train "$tmp/customers.csv" --model gbdt --trees 4 --folds 2 --seed 1 --out "$out/gbdt.json" >/dev/null
"$ebb" train "$tmp/customers.csv" --model forest --trees 3 --folds 2 --seed 1 --out "$out/forest.json" >/dev/null
"$ebb" train "$tmp/customers.csv" --model logistic --folds 2 --seed 1 --out "$out/logistic.json" >/dev/null
head -n 6 "$tmp/customers.csv" >"$out/customers.csv"
# artifact_score reads its input as mutations: an empty input is the unmutated gbdt, one byte
# picks the family with no mutation.
seeds=fuzz/corpus/artifact_score
mkdir -p "$seeds"
printf '' >"$seeds/gbdt_unmutated"
printf '\x01' >"$seeds/forest_unmutated"
printf '\x02' >"$seeds/logistic_unmutated"
ls -l "$out"
