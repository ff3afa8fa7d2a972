#!/usr/bin/env bash
# Peak RSS of `ebb score` on 1M generated customers, CSV against the same rows as Parquet
# (BENCHMARKS.md, "Parquet"). Needs target/release/ebb (`make build-release`) and pyarrow
# (installed into bench/.venv-parquet on first use). Slow: run by hand, not part of `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
ebb=target/release/ebb
dir=${EBB_PARQUET_BENCH_DIR:-target/bench-parquet}
venv=bench/.venv-parquet
mkdir -p "$dir"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet pyarrow==21.0.0
fi
[ -f "$dir/big.csv" ] || "$ebb" generate --rows 1000000 --seed 7 --out "$dir/big.csv"
[ -f "$dir/train.csv" ] || "$ebb" generate --rows 20000 --seed 42 --out "$dir/train.csv"
[ -f "$dir/model.json" ] || "$ebb" train "$dir/train.csv" --model gbdt --trees 50 --out "$dir/model.json" >/dev/null
# pyarrow's defaults: Snappy, one row group of up to 1,048,576 rows (the worst case for
# reading by row group: the whole file is one group).
[ -f "$dir/big.parquet" ] || "$venv/bin/python" -c '
import sys, pyarrow.csv as c, pyarrow.parquet as p
p.write_table(c.read_csv(sys.argv[1]), sys.argv[2])' "$dir/big.csv" "$dir/big.parquet"
for input in big.csv big.parquet; do
    for out in scores.csv scores.parquet; do
        /usr/bin/time -v "$ebb" score "$dir/model.json" "$dir/$input" --out "$dir/$out" \
            2> "$dir/time.txt" >/dev/null
        rss=$(grep "Maximum resident" "$dir/time.txt" | awk '{print $NF}')
        wall=$(grep "Elapsed (wall" "$dir/time.txt" | awk '{print $NF}')
        echo "$input -> $out: peak RSS $((rss / 1024)) MiB, wall $wall"
    done
done
