"""Feature preparation of the FastAPI + LightGBM baseline (bench/http.sh): `prepare` turns raw
rows (a DataFrame) into model inputs for training (train_lgbm.py), `vector` does the same for one
customer (a dict) when serving (app.py) without building a DataFrame per request - a one-row
DataFrame costs ~20-40 ms of pandas overhead per call on the benchmark machine, 10-100x the
prediction itself. train_lgbm.py checks that both give the same predictions.

Mirrors Ebb's pipeline where it is simple to: the id, target and snapshot columns are not
inputs, `signup_date` becomes the account age in days at `snapshot_date`, yes/no becomes 1/0,
other numbers stay numbers (NaN when missing), and categorical columns become pandas categories
with the levels seen in training (LightGBM's native categorical splits; unseen levels -> NaN).
"""

from datetime import date

import numpy as np
import pandas as pd

ID, TARGET, SNAPSHOT = "customer_id", "churn", "snapshot_date"
DATES = ["signup_date"]
BOOLEAN = ["autopay"]
CATEGORICAL = ["gender", "region", "plan", "billing_cycle", "payment_method", "referral_source"]
NUMERIC = [
    "age", "monthly_fee", "tenure_months", "usage_hours_7d", "usage_hours_30d",
    "usage_hours_90d", "sessions_30d", "days_since_last_login", "engagement_score", "devices",
    "support_tickets_90d", "payment_delays_6m", "plan_changes_12m", "discount_pct", "nps_score",
]
FEATURES = NUMERIC + BOOLEAN + [f"{d}_age_days" for d in DATES] + CATEGORICAL
YES = {"yes", "true", "y", "1"}
NO = {"no", "false", "n", "0"}


def levels(train: pd.DataFrame) -> dict:
    """Categorical levels seen in the training rows, per column (sorted: stable)."""
    return {c: sorted(train[c].dropna().astype(str).unique().tolist()) for c in CATEGORICAL}


def prepare(raw: pd.DataFrame, cats: dict) -> pd.DataFrame:
    """Model inputs (columns in FEATURES order) from raw rows; missing columns become NaN."""
    raw = raw.reindex(columns=[SNAPSHOT] + DATES + BOOLEAN + CATEGORICAL + NUMERIC)
    out = {c: pd.to_numeric(raw[c], errors="coerce").astype(float) for c in NUMERIC}
    for c in BOOLEAN:
        v = raw[c].astype(str).str.strip().str.lower()
        out[c] = np.where(v.isin(YES), 1.0, np.where(v.isin(NO), 0.0, np.nan))
    snapshot = pd.to_datetime(raw[SNAPSHOT], errors="coerce")
    for c in DATES:
        out[f"{c}_age_days"] = (snapshot - pd.to_datetime(raw[c], errors="coerce")).dt.days.astype(float)
    for c in CATEGORICAL:
        out[c] = pd.Categorical(raw[c].astype(object).where(raw[c].notna()), categories=cats[c])
    return pd.DataFrame(out, index=raw.index)[FEATURES]


def vector(record: dict, cats: dict) -> np.ndarray:
    """One customer's model inputs as a 1 x len(FEATURES) float array: categorical columns as
    their level's index in `cats` (what LightGBM uses for pandas categories), NaN if missing."""
    x = np.full((1, len(FEATURES)), np.nan)
    for i, c in enumerate(NUMERIC):
        v = record.get(c)
        if v is not None:
            x[0, i] = float(v)
    i = len(NUMERIC)
    for c in BOOLEAN:
        v = str(record.get(c)).strip().lower()
        x[0, i] = 1.0 if v in YES else 0.0 if v in NO else np.nan
        i += 1
    for c in DATES:
        try:
            x[0, i] = (date.fromisoformat(record[SNAPSHOT]) - date.fromisoformat(record[c])).days
        except (KeyError, TypeError, ValueError):
            pass
        i += 1
    for c in CATEGORICAL:
        code = cats[c].get(record.get(c))
        if code is not None:
            x[0, i] = code
        i += 1
    return x


def codes(cats: dict) -> dict:
    """Level -> index lookups for `vector`, from `levels`' lists."""
    return {c: {level: k for k, level in enumerate(v)} for c, v in cats.items()}
