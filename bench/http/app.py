"""The baseline service of bench/http.sh, served the way the seeds do it: FastAPI on uvicorn
(one worker process), a LightGBM model, one customer per request.

  EBB_HTTP_MODEL_DIR=dir EBB_HTTP_TOKEN=token uvicorn app:app --workers 1 --port PORT

POST /predict takes the same JSON body as Ebb's POST /v1/predict (one customer's raw fields,
categories as strings) with `Authorization: Bearer TOKEN`, and answers
{"customer_id": ..., "probability": ...}.

With EBB_HTTP_FRAME=1 each request builds a one-row pandas DataFrame with the training code's
`prepare` and predicts on that, a common pattern in FastAPI + LightGBM services. Without it
the features are built by hand (`features.vector`), the faster baseline bench/http.sh reports
first.
"""

import json
import os
from typing import Optional

import lightgbm as lgb
import pandas as pd
from fastapi import Depends, FastAPI, Header, HTTPException
from pydantic import BaseModel

from features import codes, prepare, vector

MODEL_DIR = os.environ["EBB_HTTP_MODEL_DIR"]
TOKEN = os.environ["EBB_HTTP_TOKEN"]

booster = lgb.Booster(model_file=os.path.join(MODEL_DIR, "lgbm.txt"))
with open(os.path.join(MODEL_DIR, "lgbm_meta.json")) as f:
    CATEGORIES = json.load(f)["categories"]
CODES = codes(CATEGORIES)
FRAME = os.environ.get("EBB_HTTP_FRAME") == "1"


class Customer(BaseModel):
    customer_id: Optional[str] = None
    snapshot_date: Optional[str] = None
    signup_date: Optional[str] = None
    age: Optional[float] = None
    gender: Optional[str] = None
    region: Optional[str] = None
    plan: Optional[str] = None
    billing_cycle: Optional[str] = None
    payment_method: Optional[str] = None
    monthly_fee: Optional[float] = None
    tenure_months: Optional[float] = None
    autopay: Optional[str] = None
    usage_hours_7d: Optional[float] = None
    usage_hours_30d: Optional[float] = None
    usage_hours_90d: Optional[float] = None
    sessions_30d: Optional[float] = None
    days_since_last_login: Optional[float] = None
    engagement_score: Optional[float] = None
    devices: Optional[float] = None
    support_tickets_90d: Optional[float] = None
    payment_delays_6m: Optional[float] = None
    plan_changes_12m: Optional[float] = None
    discount_pct: Optional[float] = None
    referral_source: Optional[str] = None
    nps_score: Optional[float] = None


class Prediction(BaseModel):
    customer_id: Optional[str]
    probability: float


def authorized(authorization: Optional[str] = Header(default=None)) -> None:
    if authorization != f"Bearer {TOKEN}":
        raise HTTPException(status_code=401, detail="missing or wrong bearer token")


app = FastAPI(title="churn baseline")


@app.get("/health")
def health() -> dict:
    return {"status": "ok", "trees": booster.num_trees()}


@app.post("/predict", response_model=Prediction, dependencies=[Depends(authorized)])
def predict(customer: Customer) -> Prediction:
    if FRAME:
        x = prepare(pd.DataFrame([customer.model_dump()]), CATEGORIES)
    else:
        x = vector(customer.model_dump(), CODES)
    p = float(booster.predict(x, num_threads=1)[0])
    return Prediction(customer_id=customer.customer_id, probability=p)
