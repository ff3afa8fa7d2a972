-- Prediction and label logs for monitoring, and the history of monitoring runs.
CREATE TABLE IF NOT EXISTS predictions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id TEXT,
    ts_ms INTEGER NOT NULL,
    model_version TEXT NOT NULL,
    arm TEXT,
    probability REAL NOT NULL,
    decision INTEGER NOT NULL,
    -- The model's raw inputs as a JSON object (drift is computed from these).
    inputs TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS predictions_ts ON predictions (ts_ms);
CREATE INDEX IF NOT EXISTS predictions_customer ON predictions (customer_id);

-- The latest known outcome per customer.
CREATE TABLE IF NOT EXISTS labels (
    customer_id TEXT PRIMARY KEY,
    churned INTEGER NOT NULL,
    ts_ms INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS monitoring_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts_ms INTEGER NOT NULL,
    trigger TEXT NOT NULL,
    model_version TEXT NOT NULL,
    status TEXT NOT NULL,
    alert INTEGER NOT NULL,
    alert_sent INTEGER NOT NULL,
    report TEXT NOT NULL
);
