#!/usr/bin/env bash
# `make fuzz`: runs every cargo-fuzz target in fuzz/ for a bounded time, one after another, and
# appends one line per target to fuzz/runs.tsv (date, seconds, executions) so executions add up
# across runs. Not part of `make test`: fuzzing needs nightly and minutes per target.
#
#   bash scripts/fuzz.sh                   # every target, FUZZ_SECONDS (default 60) each
#   FUZZ_SECONDS=30 bash scripts/fuzz.sh csv_ingest artifact_score   # some targets
#   bash scripts/fuzz.sh --install         # only install cargo-fuzz
#   bash scripts/fuzz.sh --totals          # cumulative executions per target from runs.tsv
#
# cargo-fuzz is installed from crates.io into the per-user tool cache scripts/tools.sh uses
# ($EBB_TOOLS, default ~/.cache/ebb/tools) when missing or at another version.
set -euo pipefail
cd "$(dirname "$0")/.."
tools=${EBB_TOOLS:-$HOME/.cache/ebb/tools}
cargo_fuzz_version=0.13.2
seconds=${FUZZ_SECONDS:-60}
runs=fuzz/runs.tsv

note() { echo "fuzz: $*" >&2; }

# Cumulative per target, as a Markdown table (fuzz/README.md shows it).
totals() {
    awk -F'\t' 'NR > 1 { if (!($2 in runs)) order[++n] = $2; runs[$2]++; secs[$2] += $3
                          execs[$2] += $4; crashes[$2] += ($5 ~ /^crash/) }
        END { print "| target | runs | seconds | executions | runs ending in a crash |"
              print "|---|---:|---:|---:|---:|"
              for (i = 1; i <= n; i++) { t = order[i]
                  printf "| `%s` | %d | %d | %d | %d |\n", t, runs[t], secs[t], execs[t], crashes[t] } }' "$runs"
}

if [[ ${1:-} == --totals ]]; then totals; exit 0; fi

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    echo "make fuzz: SKIPPED: no nightly toolchain (rustup toolchain install nightly)"
    exit 0
fi

installed=$("$tools/cargo/bin/cargo-fuzz" --version 2>/dev/null | awk '{print $NF}' || true)
if [[ $installed != "$cargo_fuzz_version" ]]; then
    note "installing cargo-fuzz $cargo_fuzz_version (a minute or two, once)"
    cargo install cargo-fuzz --version "=$cargo_fuzz_version" --locked --root "$tools/cargo" --force
fi
export PATH=$tools/cargo/bin:$PATH
if [[ ${1:-} == --install ]]; then exit 0; fi

cd fuzz
targets=("$@")
if [[ ${#targets[@]} == 0 ]]; then mapfile -t targets < <(cargo +nightly fuzz list); fi
[[ -f runs.tsv ]] || printf 'date\ttarget\tseconds\texecutions\tresult\n' >runs.tsv
failed=()
for target in "${targets[@]}"; do
    note "$target: $seconds s (corpus: corpus/$target, grown copy in target/corpus/$target)"
    # The committed seeds stay small: libFuzzer writes what it finds to the first (ignored)
    # directory and only reads the committed one.
    mkdir -p "target/corpus/$target"
    log=target/$target.log
    # --sanitizer none: core forbids unsafe code and edge has none, so AddressSanitizer would
    # mostly halve the executions; -a keeps debug assertions and overflow checks, which turn
    # silent arithmetic bugs into crashes the fuzzer reports.
    build=(--sanitizer none -a)
    case $target in
        # Comparison tracing costs these two most of their time for little guidance (measured:
        # 6.4x and 2.4x the executions without it). artifact_score's input only picks
        # mutations, so the compares traced are of generated JSON, never of input bytes; in
        # csv_ingest they are mostly csv-core building its DFA, and the few input bytes the
        # reader compares against are in its dictionary. Their own target directory keeps the
        # other targets' build (with tracing) from being rebuilt every run.
        csv_ingest | artifact_score) build+=(--no-trace-compares --target-dir target/no-trace-compares) ;;
    esac
    options=(-max_total_time="$seconds" -print_final_stats=1)
    [[ -f dict/$target.dict ]] && options+=(-dict="dict/$target.dict")
    set +e
    cargo +nightly fuzz run "${build[@]}" "$target" "target/corpus/$target" "corpus/$target" -- \
        "${options[@]}" 2>&1 |
        tee "$log" | grep --line-buffered -E '^#[0-9]+.*DONE|ERROR|panicked|SUMMARY|^Done'
    status=${PIPESTATUS[0]}
    set -e
    # Executions and seconds fuzzed (the build before is not counted): libFuzzer's final stats
    # (also printed after a crash) and its "Done N runs in S second(s)"; after a crash, the
    # seconds come from the average rate.
    read -r execs secs < <(awk '/^#[0-9]+/ { n = substr($1, 2) }
        /^stat::number_of_executed_units:/ { n = $2 } /^stat::average_exec_per_sec:/ { r = $2 }
        /^Done [0-9]+ runs in/ { s = $5 }
        END { if (s == "" && r > 0) s = int(n / r + 0.5); print n + 0, s + 0 }' "$log")
    result=ok
    if [[ $status != 0 ]]; then
        result="crash (exit $status)"
        failed+=("$target")
        note "$target FAILED (exit $status): see fuzz/$log and fuzz/artifacts/$target/"
    fi
    printf '%s\t%s\t%s\t%s\t%s\n' "$(date -u +%Y-%m-%dT%H:%MZ)" "$target" "$secs" "$execs" "$result" >>runs.tsv
done
cd ..
totals
if [[ ${#failed[@]} != 0 ]]; then
    note "crashed: ${failed[*]}"
    exit 1
fi
