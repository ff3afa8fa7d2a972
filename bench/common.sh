# Sourced by bench/run.sh and bench/repeated.sh (after `cd` to the repository root, with `root`
# set): the settings both share and where mlc_churn.csv is.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
# LightGBM and XGBoost use OpenMP, whose threads spin-wait at every barrier by default. When
# other processes share the cores, a spinning thread waits for a descheduled peer and a 0.2 s
# fit can take 5-30 s (measured here). Sleeping waits keep the references' timings meaningful on
# a shared machine; set OMP_WAIT_POLICY=ACTIVE on a dedicated one to get the spinning default.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}

mlc=${EBB_CHURN_CSV:-}
if [[ -z $mlc ]]; then
    # shared/ sits beside the repository; from a git worktree, beside the main checkout.
    for base in "$root/.." "$(dirname "$(git rev-parse --path-format=absolute --git-common-dir 2>/dev/null || echo .)")/.."; do
        if [[ -f $base/shared/data/mlc_churn.csv ]]; then
            mlc=$base/shared/data/mlc_churn.csv
            break
        fi
    done
fi
[[ -n $mlc && -f $mlc ]] || { echo "bench: mlc_churn.csv not found; set EBB_CHURN_CSV" >&2; exit 1; }
