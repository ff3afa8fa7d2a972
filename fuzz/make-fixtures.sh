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
"$ebb" generate --rows 300 --seed 1 --out "$tmp/customers.csv" >/dev/null
# Few trees keep each artifact small, so a mutation, re-stamp and load costs microseconds.
"$ebb" train "$tmp/customers.csv" --model gbdt --trees 8 --folds 2 --seed 1 --out "$out/gbdt.json" >/dev/null
"$ebb" train "$tmp/customers.csv" --model forest --trees 6 --folds 2 --seed 1 --out "$out/forest.json" >/dev/null
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
