"""Reference side of Ebb's benchmark: fits LightGBM, XGBoost, CatBoost and scikit-learn models on the same
rows as bench/ (the Rust side) and measures the same numbers.

  python reference.py --data d.csv --folds d.folds --target churn [--id customer_id]
                      [--time snapshot_date] --name synth --out ref_synth.json

For every fold in the folds file (see splits.py) each model is fitted on the fold's training rows
and evaluated on its test rows (ROC-AUC, PR-AUC as average precision, fit seconds). On the
first fold it also scores 1,000,000 rows (the test rows repeated; preprocessing from the raw
table plus prediction, with one thread and with all threads) and measures the saved model.

Preprocessing mirrors Ebb's feature pipeline where the libraries allow it: the id and the time
column are dropped, yes/no columns become 1/0, other date columns become ages in days at the
row's snapshot date, categorical levels seen fewer than 10 times become `other`. Trees get raw
numbers with NaN for missing values; categoricals are one-hot encoded (plus a missing column),
or for LightGBM also given as pandas categories (native categorical splits). The logistic
regression gets what Ebb's linear pipeline produces: numbers clipped to the training 0.1%/99.9%
quantiles, median-imputed with a missing indicator, standard-scaled, and one-hot categoricals.
Unlike Ebb, categoricals with more than 12 levels are one-hot encoded too (Ebb target-encodes
them).
"""

import argparse
import itertools
import json
import os
import pickle
import sys
import time

import catboost
import lightgbm as lgb
import numpy as np
import pandas as pd
import sklearn
import xgboost as xgb
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

TRUE = {"yes", "true", "y", "1"}
FALSE = {"no", "false", "n", "0"}
RARE_MIN_COUNT = 10
CLIP = (0.001, 0.999)
SCORE_ROWS = 1_000_000
# Ebb's boosting defaults, which the "matched" references copy.
LEARNING_RATE = 0.05
NUM_LEAVES = 31
MAX_ROUNDS = 500
EARLY_STOPPING = 50
HOLDOUT = 0.1
MIN_DATA_IN_LEAF = 20
MAX_BIN = 255
SEED = 42
THREADS = len(os.sched_getaffinity(0))
# Issue 13's tuned reference: LightGBM on this grid, each point early-stopped on an inner split.
TUNED_GRID = dict(num_leaves=(7, 15, 31), learning_rate=(0.03, 0.05, 0.1), min_child_samples=(10, 20, 50))
TUNED_INNER = 0.15
TUNED_MAX_ROUNDS = 3000


def log(msg: str) -> None:
    print(f"reference: {msg}", file=sys.stderr, flush=True)


def lowered(s: pd.Series) -> pd.Series:
    return s.dropna().astype(str).str.strip().str.lower()


class Prep:
    """Feature preprocessing fitted on training rows, applied to any raw rows."""

    def __init__(self, train: pd.DataFrame, drop: list, time_col):
        self.time_col = time_col
        self.numeric, self.boolean, self.dates, self.categorical = [], [], [], {}
        for c in train.columns:
            if c in drop:
                continue
            s = train[c]
            if pd.api.types.is_numeric_dtype(s):
                self.numeric.append(c)
            elif set(lowered(s)) <= TRUE | FALSE:
                self.boolean.append(c)
            elif self._is_date(s):
                self.dates.append(c)
            else:
                counts = s.dropna().astype(str).str.strip().value_counts()
                kept = list(counts[counts >= RARE_MIN_COUNT].index)
                # Levels: kept ones, then `other` (rare and unseen levels), then missing.
                self.categorical[c] = kept + ["__other__", "__missing__"]
        dates = [pd.to_datetime(train[c], errors="coerce") for c in self.dates]
        self.default_snapshot = max((d.max() for d in dates), default=pd.Timestamp(0))
        num = self.numbers(train)
        lo, hi = num.quantile(CLIP[0]), num.quantile(CLIP[1])
        self.clip = (lo, hi)
        clipped = num.clip(lo, hi, axis=1)
        self.median = clipped.median()
        self.indicator = [c for c in num.columns if num[c].isna().any()]
        imputed = clipped.fillna(self.median)
        self.mean = imputed.mean()
        std = imputed.std(ddof=0)
        self.std = std.where(std > 0, 1.0)

    @staticmethod
    def _is_date(s: pd.Series) -> bool:
        present = s.dropna()
        if present.empty:
            return False
        parsed = pd.to_datetime(present, errors="coerce", format="ISO8601")
        return bool(parsed.notna().all())

    def numbers(self, df: pd.DataFrame) -> pd.DataFrame:
        """Numeric, boolean and date columns as floats with NaN for missing values."""
        out = {c: pd.to_numeric(df[c], errors="coerce").astype(float) for c in self.numeric}
        for c in self.boolean:
            codes, uniques = pd.factorize(df[c], use_na_sentinel=True)
            u = [str(v).strip().lower() for v in uniques]
            lookup = np.array([1.0 if v in TRUE else 0.0 if v in FALSE else np.nan for v in u])
            out[c] = np.append(lookup, np.nan)[codes]
        if self.dates:
            if self.time_col:
                snap = pd.to_datetime(df[self.time_col], errors="coerce")
                snap = snap.fillna(self.default_snapshot)
            else:
                snap = self.default_snapshot
            for c in self.dates:
                d = pd.to_datetime(df[c], errors="coerce", format="ISO8601")
                out[c] = (snap - d).dt.total_seconds().to_numpy() / 86400.0
        return pd.DataFrame(out, index=df.index)

    def codes(self, df: pd.DataFrame, c: str) -> np.ndarray:
        """Level index per row: kept levels, then `other`, then missing."""
        levels = self.categorical[c]
        index = {level: i for i, level in enumerate(levels[:-2])}
        # Distinct values are few: look each up once, then gather.
        codes, uniques = pd.factorize(df[c], use_na_sentinel=True)
        other = len(levels) - 2
        lookup = np.array([index.get(str(u).strip(), other) for u in uniques] + [other + 1])
        return lookup[codes]

    def onehot(self, df: pd.DataFrame) -> np.ndarray:
        widths = [len(levels) for levels in self.categorical.values()]
        out = np.zeros((len(df), sum(widths)))
        rows, offset = np.arange(len(df)), 0
        for c, width in zip(self.categorical, widths):
            out[rows, offset + self.codes(df, c)] = 1.0
            offset += width
        return out

    def trees(self, df: pd.DataFrame) -> np.ndarray:
        return np.hstack([self.numbers(df).to_numpy(), self.onehot(df)])

    def native(self, df: pd.DataFrame) -> pd.DataFrame:
        out = self.numbers(df)
        for c, levels in self.categorical.items():
            out[c] = pd.Categorical.from_codes(self.codes(df, c), categories=levels)
        return out

    def linear(self, df: pd.DataFrame) -> np.ndarray:
        num = self.numbers(df)
        miss = num[self.indicator].isna().to_numpy(dtype=np.float64)
        num = num.clip(self.clip[0], self.clip[1], axis=1).fillna(self.median)
        num = (num - self.mean) / self.std
        return np.hstack([num.to_numpy(), miss, self.onehot(df)])


def holdout(y: np.ndarray):
    return train_test_split(np.arange(len(y)), test_size=HOLDOUT, stratify=y, random_state=SEED)


def take(x, idx):
    return x.iloc[idx] if isinstance(x, pd.DataFrame) else x[idx]


def early_stopped(params, x, y, tr, va):
    """Fits LightGBM on the rows `tr`, stopping on the validation rows `va`'s log loss; returns the
    fitted probe and its best round count (every round it was given when it never stopped)."""
    probe = lgb.LGBMClassifier(**params)
    probe.fit(
        take(x, tr),
        y[tr],
        eval_X=(take(x, va),),
        eval_y=(y[va],),
        eval_metric="binary_logloss",
        callbacks=[lgb.early_stopping(EARLY_STOPPING, verbose=False)],
    )
    return probe, max(1, probe.best_iteration_ or params["n_estimators"])


class LightGBM:
    family = "gbdt"
    library = f"lightgbm {lgb.__version__}"

    def __init__(self, name, matched: bool, native: bool):
        self.name, self.matched, self.native = name, matched, native

    def params(self, rounds):
        if not self.matched:
            return dict(verbose=-1, n_jobs=THREADS, random_state=SEED)
        return dict(
            n_estimators=rounds,
            learning_rate=LEARNING_RATE,
            num_leaves=NUM_LEAVES,
            min_child_samples=MIN_DATA_IN_LEAF,
            min_child_weight=1e-3,
            reg_lambda=0.0,
            max_bin=MAX_BIN,
            verbose=-1,
            n_jobs=THREADS,
            random_state=SEED,
        )

    def features(self, prep, df):
        return prep.native(df) if self.native else prep.trees(df)

    def fit(self, x, y):
        if not self.matched:
            self.model = lgb.LGBMClassifier(**self.params(None)).fit(x, y)
            self.rounds = self.model.n_estimators
            return
        # Ebb's protocol: find the round count on a stratified 10% hold-out, refit on all rows.
        probe, self.rounds = early_stopped(self.params(MAX_ROUNDS), x, y, *holdout(y))
        self.model = lgb.LGBMClassifier(**self.params(self.rounds)).fit(x, y)

    def predict(self, x, threads):
        return self.model.booster_.predict(x, num_threads=threads)

    def size(self):
        return len(self.model.booster_.model_to_string().encode())


class LightGBMTuned(LightGBM):
    """LightGBM tuned on issue 13's grid (num_leaves x learning_rate x min_child_samples, 27
    points; LightGBM's defaults otherwise, native categoricals). The fold's training rows are split
    once, stratified with seed 42, into 85% inner training and 15% inner validation rows; every
    grid point is fitted on the first with early stopping (50 rounds without a lower validation
    log loss, at most 3,000 rounds) on the second, and the point with the lowest validation log
    loss (the first in grid order on a tie) is refitted on all the fold's training rows for its
    best round count. The test rows are never seen. Log loss rather than ROC-AUC: on mlc_churn's
    ~600 validation rows, stopping on ROC-AUC ended fits after 4-45 rounds on noise."""

    family = "gbdt"
    library = f"lightgbm {lgb.__version__}"
    native = True

    def __init__(self, name):
        self.name = name

    def features(self, prep, df):
        return prep.native(df)

    @staticmethod
    def params(point, rounds):
        return dict(
            point, n_estimators=rounds, metric="binary_logloss", verbose=-1, n_jobs=THREADS, random_state=SEED
        )

    def fit(self, x, y):
        tr, va = train_test_split(np.arange(len(y)), test_size=TUNED_INNER, stratify=y, random_state=SEED)
        best = None
        for values in itertools.product(*TUNED_GRID.values()):
            point = dict(zip(TUNED_GRID, values))
            probe, rounds = early_stopped(self.params(point, TUNED_MAX_ROUNDS), x, y, tr, va)
            loss = probe.best_score_["valid_0"]["binary_logloss"]
            if best is None or loss < best[0]:
                best = (loss, point, rounds)
        loss, self.point, self.rounds = best
        log(f"{self.name}: chose {self.point} ({self.rounds} rounds, inner log loss {loss:.4f})")
        self.model = lgb.LGBMClassifier(**self.params(self.point, self.rounds)).fit(x, y)


class XGBoost:
    family = "gbdt"
    library = f"xgboost {xgb.__version__}"
    native = False

    def __init__(self, name):
        self.name = name

    def params(self, rounds, stopping):
        return dict(
            n_estimators=rounds,
            learning_rate=LEARNING_RATE,
            tree_method="hist",
            max_bin=MAX_BIN,
            max_depth=6,
            eval_metric="logloss",
            early_stopping_rounds=stopping,
            n_jobs=THREADS,
            random_state=SEED,
        )

    def features(self, prep, df):
        return prep.trees(df)

    def fit(self, x, y):
        tr, va = holdout(y)
        probe = xgb.XGBClassifier(**self.params(MAX_ROUNDS, EARLY_STOPPING))
        probe.fit(x[tr], y[tr], eval_set=[(x[va], y[va])], verbose=False)
        self.rounds = probe.best_iteration + 1
        self.model = xgb.XGBClassifier(**self.params(self.rounds, None)).fit(x, y)

    def predict(self, x, threads):
        self.model.set_params(n_jobs=threads)
        return self.model.predict_proba(x)[:, 1]

    def size(self):
        return len(self.model.get_booster().save_raw(raw_format="json"))


class CatBoost:
    """CatBoost with its defaults (1,000 rounds, learning rate chosen from the data size, depth 6
    symmetric trees, no early stopping) and its own categorical handling (ordered target
    statistics): categoricals are given as their level labels, numbers with NaN for missing."""

    family = "gbdt"
    library = f"catboost {catboost.__version__}"
    native = True

    def __init__(self, name):
        self.name = name

    def features(self, prep, df):
        out = prep.numbers(df)
        for c, levels in prep.categorical.items():
            out[c] = np.asarray(levels, dtype=object)[prep.codes(df, c)]
        self.categorical = list(prep.categorical)
        return out

    def fit(self, x, y):
        cats = [x.columns.get_loc(c) for c in self.categorical]
        self.model = catboost.CatBoostClassifier(
            random_seed=SEED, thread_count=THREADS, verbose=False, allow_writing_files=False
        ).fit(x, y, cat_features=cats)
        self.rounds = self.model.tree_count_

    def predict(self, x, threads):
        return self.model.predict_proba(x, thread_count=threads)[:, 1]

    def size(self):
        return len(pickle.dumps(self.model, protocol=pickle.HIGHEST_PROTOCOL))


class Sklearn:
    library = f"scikit-learn {sklearn.__version__}"
    rounds = None

    def __init__(self, name, family):
        self.name, self.family = name, family

    def features(self, prep, df):
        return prep.linear(df) if self.family == "logistic" else prep.trees(df)

    def fit(self, x, y):
        if self.family == "logistic":
            self.model = LogisticRegression(C=1.0, max_iter=1000)
        else:
            # Ebb's forest defaults (150 trees); scikit-learn's forests accept NaN since 1.4.
            self.model = RandomForestClassifier(
                n_estimators=150,
                min_samples_leaf=3,
                max_features="sqrt",
                bootstrap=True,
                n_jobs=THREADS,
                random_state=SEED,
            )
        self.model.fit(x, y)

    def predict(self, x, threads):
        if self.family == "forest":
            self.model.set_params(n_jobs=threads)
        with threadpool_limits(threads):
            return self.model.predict_proba(x)[:, 1]

    def size(self):
        return len(pickle.dumps(self.model, protocol=pickle.HIGHEST_PROTOCOL))


MODELS = {
    "lightgbm_matched": lambda: LightGBM("LightGBM matched (native categorical)", True, True),
    "lightgbm_matched_onehot": lambda: LightGBM("LightGBM matched (one-hot)", True, False),
    "lightgbm_default": lambda: LightGBM("LightGBM defaults (native categorical)", False, True),
    "xgboost_hist": lambda: XGBoost("XGBoost hist (one-hot)"),
    "catboost_default": lambda: CatBoost("CatBoost defaults (native categorical)"),
    "sklearn_logistic": lambda: Sklearn("scikit-learn LogisticRegression C=1", "logistic"),
    "sklearn_forest": lambda: Sklearn("scikit-learn RandomForest", "forest"),
    "lightgbm_tuned": lambda: LightGBMTuned("LightGBM tuned (grid)"),
}


def timed(f):
    """Result, wall seconds and CPU seconds (all threads of the process) of `f()`."""
    start, cpu = time.perf_counter(), time.process_time()
    out = f()
    return out, time.perf_counter() - start, time.process_time() - cpu


def score_seconds(model, prep, big: pd.DataFrame, threads: int):
    """Wall seconds to score `big` from raw rows (preprocessing + prediction), of the prediction
    alone, and CPU seconds of the whole."""
    x, prep_s, prep_cpu = timed(lambda: model.features(prep, big))
    _, predict_s, predict_cpu = timed(lambda: model.predict(x, threads))
    return prep_s + predict_s, predict_s, prep_cpu + predict_cpu


def replicate(rows: pd.DataFrame, n: int) -> pd.DataFrame:
    return pd.concat([rows] * -(-n // len(rows)), ignore_index=True).iloc[:n]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--folds", required=True)
    ap.add_argument("--target", required=True)
    ap.add_argument("--id")
    ap.add_argument("--time")
    ap.add_argument("--name", required=True)
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--no-scoring", action="store_true", help="skip the 1M-row scoring runs")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    raw = pd.read_csv(a.data)
    folds = np.loadtxt(a.folds, dtype=np.int64)
    if len(folds) != len(raw):
        sys.exit(f"reference: {a.folds} has {len(folds)} lines but {a.data} has {len(raw)} rows")
    target = lowered(raw[a.target])
    if len(target) != len(raw) or not set(target) <= TRUE | FALSE:
        sys.exit(f"reference: `{a.target}` must be yes/no (or true/false, 1/0) on every row")
    y = target.isin(TRUE).to_numpy(dtype=np.int64)
    drop = [c for c in (a.target, a.id, a.time) if c]
    names = [m for m in a.models.split(",") if m]
    stats = {m: dict(roc=[], pr=[], fit=[], fit_cpu=[], rounds=[]) for m in names}
    results = {}
    big = None
    test_folds = sorted(set(folds.tolist()) - {-1})
    for k in test_folds:
        tr, te = np.flatnonzero(folds != k), np.flatnonzero(folds == k)
        prep = Prep(raw.iloc[tr], drop, a.time)
        for m in names:
            model = MODELS[m]()
            xtr, xte = model.features(prep, raw.iloc[tr]), model.features(prep, raw.iloc[te])
            _, fit_s, fit_cpu = timed(lambda: model.fit(xtr, y[tr]))
            p = model.predict(xte, THREADS)
            s = stats[m]
            s["roc"].append(roc_auc_score(y[te], p))
            s["pr"].append(average_precision_score(y[te], p))
            s["fit"].append(fit_s)
            s["fit_cpu"].append(fit_cpu)
            s["rounds"].append(model.rounds)
            log(f"{a.name} fold {k}: {m}: roc {s['roc'][-1]:.4f} fit {fit_s:.2f}s rounds {model.rounds}")
            if k == test_folds[0]:
                r = results[m] = dict(
                    model=model.name,
                    family=model.family,
                    library=model.library,
                    model_bytes=model.size(),
                )
                if not a.no_scoring:
                    if big is None:
                        big = replicate(raw.iloc[te], SCORE_ROWS)
                    for label, threads in (("1t", 1), ("all", THREADS)):
                        total, predict, cpu = score_seconds(model, prep, big, threads)
                        r[f"score_1m_seconds_{label}"] = total
                        r[f"score_1m_cpu_seconds_{label}"] = cpu
                        r[f"predict_1m_seconds_{label}"] = predict
                    log(f"{a.name}: {m}: 1M rows {r['score_1m_seconds_1t']:.2f}s (1 thread), "
                        f"{r['score_1m_seconds_all']:.2f}s ({THREADS} threads)")
    for m in names:
        s = stats[m]
        results[m].update(
            roc_auc=float(np.mean(s["roc"])),
            pr_auc=float(np.mean(s["pr"])),
            fit_seconds=float(np.mean(s["fit"])),
            fit_cpu_seconds=float(np.mean(s["fit_cpu"])),
            rounds=s["rounds"] if s["rounds"][0] is not None else None,
            folds=dict(roc_auc=s["roc"], pr_auc=s["pr"], fit_seconds=s["fit"]),
        )
    out = dict(
        side="python",
        dataset=a.name,
        data=a.data,
        rows=len(raw),
        test_folds=len(test_folds),
        train_rows_fold0=int((folds != test_folds[0]).sum()),
        test_rows_fold0=int((folds == test_folds[0]).sum()),
        threads=THREADS,
        # Other work on the machine inflates wall-clock times: keep the load next to them.
        load_average=list(os.getloadavg()),
        omp_wait_policy=os.environ.get("OMP_WAIT_POLICY", "default"),
        results=[dict(key=m, **results[m]) for m in names],
    )
    with open(a.out, "w") as f:
        json.dump(out, f, indent=2)
    log(f"wrote {a.out}")


if __name__ == "__main__":
    main()
