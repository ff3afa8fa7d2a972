#!/usr/bin/env bash
# Issue 13's size study: does the gbdt do better with defaults that follow the table's size, or
# with `ebb tune`'s search run by default on small tables? Every variant is fitted on the same
# outer folds of each table (ebb-bench run: pipeline and gbdt fitted on the fold's training rows,
# ROC-AUC on its test rows), so differences are paired fold by fold.
#   bash bench/size_study.sh            (no Python needed; ~20-40 min on a shared 2-core machine)
# Tables: generated 2,000 / 5,000 / 20,000 customers (ebb generate --seed 11), stratified 5-fold
# with core's folds (seeds 42 43 44; one seed at 20,000); mlc2000, the first 2,000 rows of
# mlc_churn, the same way; mlc_churn with bench/splits.py's folds
# of bench/repeated.sh (seeds 42 43 44: the folds the recorded references used) when
# EBB_STUDY_MLC_FOLDS names their directory, else core's; 100,000 generated (seed 42) with the
# time split of "Issue 13's accuracy target" when EBB_STUDY_100K names its csv and folds prefix.
# Environment: EBB_STUDY_VARIANTS  names of the variants below to run (default: all)
#              EBB_STUDY_TABLES    tables to run (default: gen2000 gen5000 mlc gen20000 gen100k)
#              EBB_STUDY_BASELINE  the variant the summary's paired differences are against
#                                  (default: base; session 12's l7_* levers: leaves7)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
source bench/common.sh
out=${EBB_STUDY_OUT:-bench/out/size_study}
mkdir -p "$out"
# EBB_STUDY_SKIP_BUILD=1: use the binaries already in $CARGO_TARGET_DIR/release.
[[ -n ${EBB_STUDY_SKIP_BUILD:-} ]] || cargo build --release -p ebb-bench -p ebb-cli
bin=$CARGO_TARGET_DIR/release/ebb-bench
ebb=$CARGO_TARGET_DIR/release/ebb

# name=EBB_BENCH_BOOST (gbdt fields over the defaults), except the tuned ones below.
declare -A variants=(
    [base]='{}'
    [leaves15]='{"num_leaves":15}'
    [leaves7]='{"num_leaves":7}'
    [minleaf50]='{"min_data_in_leaf":50}'
    [minleaf10]='{"min_data_in_leaf":10}'
    [lr03]='{"learning_rate":0.03,"n_trees":1000}'
    [lr10]='{"learning_rate":0.1}'
    [l2_1]='{"lambda_l2":1.0}'
    [l2_10]='{"lambda_l2":10.0}'
    [small]='{"num_leaves":15,"min_data_in_leaf":40,"lambda_l2":1.0}'
    # Session 12's levers, each over the shipped small-table default (`leaves7`):
    [l7_lr03]='{"num_leaves":7,"learning_rate":0.03,"n_trees":1000}'
    [l7_lr02]='{"num_leaves":7,"learning_rate":0.02,"n_trees":1500}'
    [l7_ff08]='{"num_leaves":7,"feature_fraction":0.8}'
    [l7_ff05]='{"num_leaves":7,"feature_fraction":0.5}'
    [l7_bag08]='{"num_leaves":7,"bagging_fraction":0.8,"bagging_freq":1}'
    [l7_l2_3]='{"num_leaves":7,"lambda_l2":3.0}'
    [l7_minleaf10]='{"num_leaves":7,"min_data_in_leaf":10}'
    [l7_minleaf40]='{"num_leaves":7,"min_data_in_leaf":40}'
    [l7_val20]='{"num_leaves":7,"validation_fraction":0.2}'
    [l7_es100]='{"num_leaves":7,"early_stopping_rounds":100}'
    [l7_cs20]='{"num_leaves":7,"cat_smooth":20.0}'
    [l7_mct8]='{"num_leaves":7,"max_cat_threshold":8}'
    [l7_ff07]='{"num_leaves":7,"feature_fraction":0.7}'
    [l7_ff05_bag08]='{"num_leaves":7,"feature_fraction":0.5,"bagging_fraction":0.8,"bagging_freq":1}'
    [l7_d3]='{"num_leaves":8,"max_depth":3}'
    [l15_ff05]='{"num_leaves":15,"feature_fraction":0.5}'
    # The same with other seeds (the seed draws the early-stopping hold-out and the features).
    [leaves7_s7]='{"num_leaves":7,"seed":7}'
    [l7_ff08_s7]='{"num_leaves":7,"feature_fraction":0.8,"seed":7}'
    [leaves7_s99]='{"num_leaves":7,"seed":99}'
    [l7_ff08_s99]='{"num_leaves":7,"feature_fraction":0.8,"seed":99}'
    # Session 14: splits scored by row counts instead of hessians (CatBoost's edge on mlc_churn),
    # over the shipped small-table default (7 leaves, 80% of the features), and the second-order
    # gain with the same L2 for comparison.
    [l7_ff08_rows]='{"num_leaves":7,"feature_fraction":0.8,"split_gain":"rows"}'
    [l7_ff08_rows_l2_3]='{"num_leaves":7,"feature_fraction":0.8,"split_gain":"rows","lambda_l2":3.0}'
    [l7_ff08_rows_l2_10]='{"num_leaves":7,"feature_fraction":0.8,"split_gain":"rows","lambda_l2":10.0}'
    [l7_ff08_l2_10]='{"num_leaves":7,"feature_fraction":0.8,"lambda_l2":10.0}'
    # Symmetric (oblivious) trees of depth 6 with L2 3, as CatBoost grows them: with early
    # stopping as the other variants, and with CatBoost's protocol of a fixed 1,000 rounds at a
    # small rate and no minimum leaf size.
    [sym6_l2_3]='{"tree_shape":"symmetric","lambda_l2":3.0}'
    [sym6_rows_l2_3]='{"tree_shape":"symmetric","lambda_l2":3.0,"split_gain":"rows"}'
    [sym6_l2_3_lr10]='{"tree_shape":"symmetric","lambda_l2":3.0,"learning_rate":0.1}'
    [sym6_l2_3_lr07]='{"tree_shape":"symmetric","lambda_l2":3.0,"learning_rate":0.07}'
    [sym5_l2_3]='{"tree_shape":"symmetric","lambda_l2":3.0,"max_depth":5}'
    [sym6_rows_fixed1000]='{"tree_shape":"symmetric","lambda_l2":3.0,"split_gain":"rows","min_data_in_leaf":1,"learning_rate":0.015,"n_trees":1000,"early_stopping_rounds":null}'
    # Session 15: the same protocol with the second-order gain, as CatBoost grows trees when its
    # split score is `L2` and its noise, row sampling and target statistics are off (bench/
    # catboost_levers.py's `ebb_like`), to find what of CatBoost's lead is not the tree shape.
    [sym6_fixed1000]='{"tree_shape":"symmetric","lambda_l2":3.0,"min_data_in_leaf":1,"learning_rate":0.015,"n_trees":1000,"early_stopping_rounds":null}'
    # Target statistics for categorical columns (`--categorical encoded`: one-hot up to 12 levels,
    # out-of-fold target encoding above) instead of native set splits, CatBoost's largest single
    # lever on mlc2000 (bench/catboost_levers.py's `ebb_like_ctr`).
    [l7_ff08_enc]='{"num_leaves":7,"feature_fraction":0.8,"categorical":"encoded"}'
    [sym6_rows_fixed1000_enc]='{"tree_shape":"symmetric","lambda_l2":3.0,"split_gain":"rows","min_data_in_leaf":1,"learning_rate":0.015,"n_trees":1000,"early_stopping_rounds":null,"categorical":"encoded"}'
    # Session 15: the symmetric member of a blend with `l7_ff08` (bench/blend_study.py), with
    # fewer trees than CatBoost's 1,000 (a blend's model holds both members' trees).
    [sym6_rows_fixed500_lr03]='{"tree_shape":"symmetric","lambda_l2":3.0,"split_gain":"rows","min_data_in_leaf":1,"learning_rate":0.03,"n_trees":500,"early_stopping_rounds":null}'
    [sym6_rows_fixed300_lr05]='{"tree_shape":"symmetric","lambda_l2":3.0,"split_gain":"rows","min_data_in_leaf":1,"learning_rate":0.05,"n_trees":300,"early_stopping_rounds":null}'
    [sym6_rows_es_lr015]='{"tree_shape":"symmetric","lambda_l2":3.0,"split_gain":"rows","min_data_in_leaf":1,"learning_rate":0.015,"n_trees":1000}'
    # `ebb train`'s gbdt as shipped (run as family gbdt_sized: the defaults sized to the fold).
    [sized]='{}'
    # Session 15: the averaged member (sym6_rows_fixed300_lr05) with one setting changed, for
    # bench/blend_study.py beside l7_ff08.
    [m300_cs50]='{"tree_shape":"symmetric","lambda_l2":3.0,"split_gain":"rows","min_data_in_leaf":1,"learning_rate":0.05,"n_trees":300,"early_stopping_rounds":null,"cat_smooth":50.0}'
    [m300_mct16]='{"tree_shape":"symmetric","lambda_l2":3.0,"split_gain":"rows","min_data_in_leaf":1,"learning_rate":0.05,"n_trees":300,"early_stopping_rounds":null,"max_cat_threshold":16}'
    [m300_mdpg20]='{"tree_shape":"symmetric","lambda_l2":3.0,"split_gain":"rows","min_data_in_leaf":1,"learning_rate":0.05,"n_trees":300,"early_stopping_rounds":null,"min_data_per_group":20}'
    [m300_ff08]='{"tree_shape":"symmetric","lambda_l2":3.0,"split_gain":"rows","min_data_in_leaf":1,"learning_rate":0.05,"n_trees":300,"early_stopping_rounds":null,"feature_fraction":0.8}'
    [m300_bag08]='{"tree_shape":"symmetric","lambda_l2":3.0,"split_gain":"rows","min_data_in_leaf":1,"learning_rate":0.05,"n_trees":300,"early_stopping_rounds":null,"bagging_fraction":0.8,"bagging_freq":1}'
    [m300_d5]='{"tree_shape":"symmetric","lambda_l2":3.0,"split_gain":"rows","min_data_in_leaf":1,"learning_rate":0.05,"n_trees":300,"early_stopping_rounds":null,"max_depth":5}'
    [m300_l2_10]='{"tree_shape":"symmetric","lambda_l2":10.0,"split_gain":"rows","min_data_in_leaf":1,"learning_rate":0.05,"n_trees":300,"early_stopping_rounds":null}'
    [m300_hess]='{"tree_shape":"symmetric","lambda_l2":3.0,"split_gain":"hessian","min_data_in_leaf":1,"learning_rate":0.05,"n_trees":300,"early_stopping_rounds":null}'
    [m300_d5_cs50]='{"tree_shape":"symmetric","lambda_l2":3.0,"split_gain":"rows","min_data_in_leaf":1,"learning_rate":0.05,"n_trees":300,"max_depth":5,"cat_smooth":50.0,"early_stopping_rounds":null}'
    [m300_cs20]='{"tree_shape":"symmetric","lambda_l2":3.0,"split_gain":"rows","min_data_in_leaf":1,"learning_rate":0.05,"n_trees":300,"early_stopping_rounds":null,"cat_smooth":20.0}'
    [m300_cs100]='{"tree_shape":"symmetric","lambda_l2":3.0,"split_gain":"rows","min_data_in_leaf":1,"learning_rate":0.05,"n_trees":300,"early_stopping_rounds":null,"cat_smooth":100.0}'
    [m300_d5_cs20]='{"tree_shape":"symmetric","lambda_l2":3.0,"split_gain":"rows","min_data_in_leaf":1,"learning_rate":0.05,"n_trees":300,"early_stopping_rounds":null,"max_depth":5,"cat_smooth":20.0}'
    [m300_d4_cs50]='{"tree_shape":"symmetric","lambda_l2":3.0,"split_gain":"rows","min_data_in_leaf":1,"learning_rate":0.05,"n_trees":300,"early_stopping_rounds":null,"max_depth":4,"cat_smooth":50.0}'
    [m300_d4]='{"tree_shape":"symmetric","lambda_l2":3.0,"split_gain":"rows","min_data_in_leaf":1,"learning_rate":0.05,"n_trees":300,"early_stopping_rounds":null,"max_depth":4}'
    [l7_ff08_cs20]='{"num_leaves":7,"feature_fraction":0.8,"cat_smooth":20.0}'
    [tuned]='{}'
    [tuned_ni]='{"compare_imbalance":false}'
    [tuned7_ni]='{"compare_imbalance":false,"sized":false,"base":{"n_trees":500,"learning_rate":0.05,"num_leaves":7,"max_depth":null,"min_data_in_leaf":20,"min_sum_hessian_in_leaf":0.001,"lambda_l2":0.0,"min_gain_to_split":0.0,"feature_fraction":1.0,"bagging_fraction":1.0,"bagging_freq":0,"scale_pos_weight":1.0,"max_bins":255,"early_stopping_rounds":50,"validation_fraction":0.1,"seed":42}}'
)
# Variants run as gbdt_tuned, with EBB_BENCH_TUNE (TuneParams fields over `ebb tune`'s defaults):
# `tuned` is `ebb tune`'s search with the weighting comparison, `tuned_ni` the search `ebb
# train` would run by default (no weighting comparison), `tuned7_ni` the same search from 7 leaves.
declare -A tuned=([tuned]=1 [tuned_ni]=1 [tuned7_ni]=1)
names=${EBB_STUDY_VARIANTS:-base leaves15 leaves7 minleaf50 minleaf10 lr03 lr10 l2_1 l2_10 small tuned tuned_ni}
tables=${EBB_STUDY_TABLES:-gen2000 mlc2000 gen5000 mlc gen20000 gen100k}

# table seed... -> the table's folds files, one per seed (`ebb-bench folds`, made once)
fold_files() {
    local t=$1 s
    shift
    for s in "$@"; do
        [[ -f $out/${t}_$s.folds ]] ||
            "$bin" folds --data "$out/$t.csv" --target churn --seed "$s" --out "$out/${t}_$s.folds"
        echo -n "$out/${t}_$s.folds "
    done
}

# table -> "csv folds-file..." (extra run flags after a |)
prepare() {
    local t=$1 rows seeds files=()
    case $t in
        gen*00)
            rows=${t#gen}
            [[ -f $out/$t.csv ]] || "$ebb" generate --rows "$rows" --seed 11 --out "$out/$t.csv" >/dev/null
            seeds="42 43 44"
            [[ $rows -ge 20000 ]] && seeds=42
            echo "$out/$t.csv $(fold_files "$t" $seeds)"
            ;;
        mlc2000)
            # The first 2,000 rows of mlc_churn: a small table that is not generated.
            [[ -f $out/$t.csv ]] || head -2001 "$mlc" >"$out/$t.csv"
            echo "$out/$t.csv $(fold_files "$t" 42 43 44)"
            ;;
        mlc)
            for s in 42 43 44; do
                if [[ -n ${EBB_STUDY_MLC_FOLDS:-} ]]; then
                    files+=("$EBB_STUDY_MLC_FOLDS/mlc_$s.folds")
                else
                    [[ -f $out/mlc_$s.folds ]] ||
                        "$bin" folds --data "$mlc" --target churn --seed "$s" --out "$out/mlc_$s.folds"
                    files+=("$out/mlc_$s.folds")
                fi
            done
            echo "$mlc ${files[*]}"
            ;;
        gen100k)
            [[ -n ${EBB_STUDY_100K:-} ]] || return 1
            echo "$EBB_STUDY_100K.csv $EBB_STUDY_100K.folds|--id customer_id --time snapshot_date"
            ;;
        *)
            # Any other table placed in the output directory as NAME.csv (session 15's
            # confirmation tables), the same way as mlc2000.
            [[ -f $out/$t.csv ]] || return 1
            echo "$out/$t.csv $(fold_files "$t" 42 43 44)"
            ;;
    esac
}

for t in $tables; do
    spec=$(prepare "$t") || { echo "size_study: skipping $t (EBB_STUDY_100K unset, or no $out/$t.csv)" >&2; continue; }
    extra=${spec#*|}
    [[ $extra == "$spec" ]] && extra=""
    read -r csv folds <<<"${spec%%|*}"
    for v in $names; do
        i=0
        for f in $folds; do
            i=$((i + 1))
            dest=$out/${t}_${v}_$i.json
            [[ -f $dest ]] && continue
            echo "== $t $v folds $f" >&2
            if [[ -n ${tuned[$v]:-} ]]; then
                EBB_BENCH_TUNE=${variants[$v]} "$bin" run --data "$csv" --folds "$f" --target churn --name "$t" --no-scoring \
                    --models gbdt_tuned $extra --out "$dest" 2>>"$out/log.txt"
            else
                family=gbdt
                [[ $v == sized ]] && family=gbdt_sized
                EBB_BENCH_BOOST=${variants[$v]} "$bin" run --data "$csv" --folds "$f" --target churn \
                    --name "$t" --no-scoring --predictions --models "$family" $extra --out "$dest" 2>>"$out/log.txt"
            fi
        done
    done
done
python3 bench/size_study.py "$out" "${EBB_STUDY_BASELINE:-base}"
