//! Storage: the registry in D1 (changed by compare-and-swap), artifacts in Workers KV, the
//! per-isolate registry and model caches, and the prediction/label/monitoring logs in D1.
//! Storage failures become 503s with the reason, never panics.

use std::cell::RefCell;
use std::rc::Rc;

use ebb_edge::labels::Label;
use ebb_edge::metrics::Metrics;
use ebb_edge::model::LoadedModel;
use ebb_edge::monitoring::LoggedPrediction;
use ebb_edge::registry::{self, model_key, Registry, RegistryStore, Versioned, REGISTRY_KEY};
use ebb_edge::ApiError;
use js_sys::Array;
use wasm_bindgen::{JsCast, JsValue};
use worker::{D1Database, D1PreparedStatement, Env};

use crate::kv::Namespace;

/// Parsed models kept per isolate (artifacts are content-addressed, so a cached version
/// never goes stale).
const CACHED_MODELS: usize = 4;
/// How long an isolate trusts its copy of the registry, so the prediction path reads D1 at
/// most once a second per isolate. Changes made through this isolate apply at once; changes
/// made through other isolates within a second.
const REGISTRY_TTL_MS: u64 = 1_000;
/// Predictions are logged in groups: the first request after a flush schedules the next one
/// this long ahead (in its `wait_until`), and every prediction until then joins that write.
const LOG_FLUSH_DELAY_MS: u64 = 100;
/// Rows per D1 statement (one JSON parameter, well under D1's 2 MB value limit).
const LOG_CHUNK: usize = 500;

/// What one isolate remembers between requests.
#[derive(Default)]
pub struct Isolate {
    models: Vec<Rc<LoadedModel>>,
    /// The version that last served successfully: the fallback when the active one breaks.
    pub last_good: Option<String>,
    /// Prometheus counters.
    pub metrics: Metrics,
    registry: Option<CachedRegistry>,
    pending_logs: Vec<LogRow>,
    flush_scheduled: bool,
}

/// This isolate's copy of the registry: the newest version it has read or written.
struct CachedRegistry {
    registry: Rc<Registry>,
    version: u64,
    read_at_ms: u64,
}

thread_local! {
    static ISOLATE: RefCell<Isolate> = RefCell::new(Isolate::default());
}

/// Runs `f` on this isolate's state (never across an await).
pub fn with_isolate<T>(f: impl FnOnce(&mut Isolate) -> T) -> T {
    ISOLATE.with(|i| f(&mut i.borrow_mut()))
}

fn cached(version: &str) -> Option<Rc<LoadedModel>> {
    with_isolate(|i| i.models.iter().find(|m| m.version() == version).cloned())
}

fn remember(model: Rc<LoadedModel>) {
    with_isolate(|i| {
        i.models.retain(|m| m.version() != model.version());
        i.models.insert(0, model);
        i.models.truncate(CACHED_MODELS);
    })
}

/// What kind of failure `e` is, for logs and answers: its variant and the D1/SQLite codes it
/// names ([`ebb_edge::error::storage_error_kind`]), never its message, which can quote the
/// customer data a statement was bound to or, for a failed `fetch`, a webhook URL's secret.
pub fn error_kind(e: &worker::Error) -> String {
    let variant: &'static str = e.into();
    // Display has the message; Debug also the D1 error's cause, where SQLite's code is.
    ebb_edge::error::storage_error_kind(variant, &format!("{e}\n{e:?}"))
}

/// Storage failure: the service, not the request, is at fault. The answer (and any log line
/// made of it) names the failure's kind only ([`error_kind`]).
pub fn storage(what: &str, e: impl Into<worker::Error>) -> ApiError {
    ApiError::unavailable(format!(
        "{what} failed ({}); retry shortly",
        error_kind(&e.into())
    ))
}

/// The KV namespace of models.
pub fn kv(env: &Env) -> Result<Namespace, ApiError> {
    Namespace::open(env, "MODELS").map_err(|e| storage("opening the MODELS KV namespace", e))
}

/// The D1 database of logs.
pub fn db(env: &Env) -> Result<D1Database, ApiError> {
    env.d1("EBB")
        .map_err(|e| storage("opening the EBB D1 database", e))
}

/// The registry row in D1, imported from KV on first use.
struct D1Registry<'a> {
    db: D1Database,
    kv: &'a Namespace,
}

/// One row of a D1 query read as an array of its columns in the statement's order
/// (`raw()`), each column read by a typed getter. D1's own readers (`first::<T>`,
/// `results::<T>`, `meta()`) compile serde_wasm_bindgen's deserializer once per row type
/// (~11 KB of wasm for four types); a row's few columns need no deserializer.
struct RawRow<'a> {
    columns: Array,
    /// What was being read, for the message when a column is not what the statement selects.
    what: &'a str,
}

impl<'a> RawRow<'a> {
    fn new(row: JsValue, what: &'a str) -> Result<Self, ApiError> {
        match row.dyn_into::<Array>() {
            Ok(columns) => Ok(RawRow { columns, what }),
            Err(_) => Err(unreadable_row(what, "a row is not an array of columns")),
        }
    }

    /// Column `k`; `None` for SQL `NULL`, an error for a value `read` does not accept.
    fn column<T>(
        &self,
        k: u32,
        expected: &str,
        read: impl FnOnce(&JsValue) -> Option<T>,
    ) -> Result<Option<T>, ApiError> {
        let value = self.columns.get(k);
        if value.is_null() || value.is_undefined() {
            return Ok(None);
        }
        read(&value)
            .map(Some)
            .ok_or_else(|| unreadable_row(self.what, &format!("column {k} is not {expected}")))
    }

    fn optional_text(&self, k: u32) -> Result<Option<String>, ApiError> {
        self.column(k, "text", JsValue::as_string)
    }

    fn optional_number(&self, k: u32) -> Result<Option<f64>, ApiError> {
        self.column(k, "a number", JsValue::as_f64)
    }

    fn text(&self, k: u32) -> Result<String, ApiError> {
        self.optional_text(k)?
            .ok_or_else(|| unreadable_row(self.what, &format!("column {k} is NULL")))
    }

    /// A number column (D1 hands integers to JavaScript as numbers too).
    fn number(&self, k: u32) -> Result<f64, ApiError> {
        self.optional_number(k)?
            .ok_or_else(|| unreadable_row(self.what, &format!("column {k} is NULL")))
    }
}

/// A row that does not have the statement's columns: the schema and the worker disagree
/// (a migration not applied), a storage failure to the caller.
fn unreadable_row(what: &str, problem: &str) -> ApiError {
    ApiError::unavailable(format!("{what} failed ({problem}); retry shortly"))
}

/// The first row `statement` returns, if any: `raw_js_value` runs it and converts a failure
/// exactly as `first` does (through D1's error type).
async fn first_row<'a>(
    statement: D1PreparedStatement,
    what: &'a str,
) -> Result<Option<RawRow<'a>>, ApiError> {
    let rows = statement
        .raw_js_value()
        .await
        .map_err(|e| storage(what, e))?;
    rows.into_iter()
        .next()
        .map(|row| RawRow::new(row, what))
        .transpose()
}

impl D1Registry<'_> {
    async fn row(&self) -> Result<Option<Versioned>, ApiError> {
        let statement = self
            .db
            .prepare("SELECT state, version FROM registry WHERE id = 1");
        let Some(row) = first_row(statement, "reading the registry").await? else {
            return Ok(None);
        };
        Ok(Some(Versioned {
            registry: Registry::from_stored(Some(&row.text(0)?))?,
            version: row.number(1)? as u64,
        }))
    }
}

impl RegistryStore for D1Registry<'_> {
    async fn load(&self) -> Result<Versioned, ApiError> {
        if let Some(stored) = self.row().await? {
            return Ok(stored);
        }
        // No row yet: a new deployment, or one from before the registry moved to D1, whose
        // document is in KV. `INSERT OR IGNORE`: when two requests import at once, one row wins
        // and both read it back.
        let text = self
            .kv
            .text(REGISTRY_KEY)
            .await
            .map_err(|e| storage("reading the KV registry to import", e))?;
        let imported = Registry::from_stored(text.as_deref())?;
        self.db
            .prepare("INSERT OR IGNORE INTO registry (id, state, version) VALUES (1, ?1, 0)")
            .bind(&[JsValue::from_str(&imported.to_json())])
            .map_err(|e| storage("importing the registry", e))?
            .run()
            .await
            .map_err(|e| storage("importing the registry", e))?;
        self.row().await?.ok_or_else(|| {
            ApiError::unavailable(
                "the registry row is missing right after it was created; retry shortly",
            )
        })
    }

    async fn swap(&self, expected: u64, registry: &Registry) -> Result<bool, ApiError> {
        // `RETURNING`: the updated row comes back when the version matched, nothing when
        // another change won, so the outcome needs no `meta()` (and no deserializer for it).
        // `raw_js_value` converts a failure as `run` does.
        let updated = self
            .db
            .prepare(
                "UPDATE registry SET state = ?1, version = version + 1 WHERE id = 1 AND version = ?2 RETURNING version",
            )
            .bind(&[
                JsValue::from_str(&registry.to_json()),
                JsValue::from_f64(expected as f64),
            ])
            .map_err(|e| storage("writing the registry", e))?
            .raw_js_value()
            .await
            .map_err(|e| storage("writing the registry", e))?;
        let swapped = updated.len() == 1;
        if !swapped {
            with_isolate(|i| i.metrics.observe_registry_conflict());
        }
        Ok(swapped)
    }

    async fn sleep(&self, ms: u64) {
        worker::Delay::from(std::time::Duration::from_millis(ms)).await;
    }

    fn random(&self) -> f64 {
        js_sys::Math::random()
    }
}

/// Keeps `stored` as this isolate's copy unless the copy is as new: requests finish in any
/// order, and a read that started before this isolate's own write must not bring back the
/// document from before it. The copy counts as fresh again either way (D1 was just read).
fn remember_registry(stored: &Versioned, now_ms: u64) -> Rc<Registry> {
    with_isolate(|i| match &mut i.registry {
        Some(cached) if cached.version >= stored.version => {
            cached.read_at_ms = now_ms;
            cached.registry.clone()
        }
        _ => {
            let registry = Rc::new(stored.registry.clone());
            i.registry = Some(CachedRegistry {
                registry: registry.clone(),
                version: stored.version,
                read_at_ms: now_ms,
            });
            registry
        }
    })
}

/// The registry as stored now (for checks before a change; no cache).
pub async fn current_registry(env: &Env, now_ms: u64) -> Result<Rc<Registry>, ApiError> {
    let kv = kv(env)?;
    let stored = D1Registry {
        db: db(env)?,
        kv: &kv,
    }
    .load()
    .await?;
    Ok(remember_registry(&stored, now_ms))
}

/// The registry for serving: this isolate's copy when younger than [`REGISTRY_TTL_MS`], so
/// the prediction path does not wait on D1.
pub async fn serving_registry(env: &Env, now_ms: u64) -> Result<Rc<Registry>, ApiError> {
    let fresh = with_isolate(|i| {
        i.registry
            .as_ref()
            .filter(|c| now_ms.saturating_sub(c.read_at_ms) < REGISTRY_TTL_MS)
            .map(|c| c.registry.clone())
    });
    match fresh {
        Some(r) => Ok(r),
        None => current_registry(env, now_ms).await,
    }
}

/// Applies `change` to the registry, serialised with every other change by compare-and-swap
/// in D1 ([`registry::update`]; it may run more than once); the written document becomes this
/// isolate's copy, so the change serves at once.
pub async fn update_registry<T>(
    env: &Env,
    now_ms: u64,
    mut change: impl FnMut(&mut Registry) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    // The compare-and-swap loop is compiled once, for a change that keeps its value here, not
    // once per caller's type (five copies of the loop's async state machine in the wasm).
    let mut value = None;
    write_registry(env, now_ms, &mut |r: &mut Registry| {
        value = Some(change(r)?);
        Ok(())
    })
    .await?;
    Ok(value.expect("registry::update succeeds only after a change that succeeded"))
}

async fn write_registry(
    env: &Env,
    now_ms: u64,
    change: &mut dyn FnMut(&mut Registry) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    let kv = kv(env)?;
    let store = D1Registry {
        db: db(env)?,
        kv: &kv,
    };
    let ((), written) = registry::update(&store, change).await?;
    remember_registry(&written, now_ms);
    Ok(())
}

/// Stores an artifact's JSON.
pub async fn save_artifact(kv: &Namespace, version: &str, json: &str) -> Result<(), ApiError> {
    kv.put_text(&model_key(version), json)
        .await
        .map_err(|e| storage("storing the model", e))
}

/// Loads a version, from the isolate cache when possible. `Err` says why it cannot serve.
/// The KV namespace is opened only on a miss: opening it builds a JavaScript binding object
/// (several calls across the wasm boundary), which the prediction path, served from the
/// cache, does not need.
pub async fn load_model(env: &Env, version: &str) -> Result<Rc<LoadedModel>, String> {
    if let Some(model) = cached(version) {
        return Ok(model);
    }
    let text = kv(env)
        .map_err(|e| e.message)?
        .text(&model_key(version))
        .await
        .map_err(|e| format!("reading model {version} from KV failed: {e}"))?
        .ok_or_else(|| format!("model {version} is missing from KV"))?;
    let model = LoadedModel::from_json(&text)
        .map_err(|e| format!("model {version} is unusable: {}", e.message))?;
    if model.version() != version {
        return Err(format!(
            "the artifact stored as {version} is model {}",
            model.version()
        ));
    }
    let model = Rc::new(model);
    remember(model.clone());
    Ok(model)
}

/// A model ready to serve, and whether it is a fallback.
pub struct Serving {
    /// The model.
    pub model: Rc<LoadedModel>,
    /// Why the intended version is not serving, when it is not.
    pub degraded: Option<String>,
}

/// Loads `version`, or the last good version, or the registry's earlier active versions,
/// in that order; 503 with every reason when none loads.
pub async fn serving_model(
    env: &Env,
    registry: &Registry,
    version: &str,
) -> Result<Serving, ApiError> {
    let failure = match load_model(env, version).await {
        Ok(model) => {
            with_isolate(|i| i.last_good = Some(version.to_string()));
            return Ok(Serving {
                model,
                degraded: None,
            });
        }
        Err(reason) => reason,
    };
    let mut candidates: Vec<String> = with_isolate(|i| i.last_good.clone())
        .into_iter()
        .chain(registry.fallbacks())
        .filter(|v| v != version)
        .collect();
    candidates.dedup();
    let mut reasons = vec![failure.clone()];
    for candidate in candidates {
        match load_model(env, &candidate).await {
            Ok(model) => {
                return Ok(Serving {
                    model,
                    degraded: Some(failure),
                })
            }
            Err(reason) => reasons.push(reason),
        }
    }
    Err(ApiError::unavailable(format!(
        "no usable model: {}; upload a valid model and activate it",
        reasons.join("; ")
    )))
}

/// One row to log.
pub struct LogRow {
    /// Customer id.
    pub customer_id: Option<String>,
    /// Version that scored.
    pub model_version: String,
    /// A/B arm.
    pub arm: Option<&'static str>,
    /// Probability served.
    pub probability: f64,
    /// Decision served.
    pub decision: bool,
    /// Raw inputs (a JSON object's text).
    pub inputs: String,
    /// When it was served (ms since the Unix epoch).
    pub ts_ms: u64,
}

/// Queues predictions for the log; `true` when the caller must schedule
/// [`flush_predictions`] in its `wait_until` (no flush is pending yet).
pub fn queue_predictions(rows: Vec<LogRow>) -> bool {
    with_isolate(|i| {
        i.pending_logs.extend(rows);
        !std::mem::replace(&mut i.flush_scheduled, true)
    })
}

/// Waits [`LOG_FLUSH_DELAY_MS`], then writes every queued prediction with one statement per
/// [`LOG_CHUNK`] rows (rows travel as one JSON parameter unpacked by SQLite's `json_each`, so a
/// batch of 1,000 costs two statements, not 1,000). Runs after the response is sent; a failure
/// goes to the worker's log, never to a caller.
pub async fn flush_predictions(db: D1Database) {
    worker::Delay::from(std::time::Duration::from_millis(LOG_FLUSH_DELAY_MS)).await;
    let rows = with_isolate(|i| {
        i.flush_scheduled = false;
        std::mem::take(&mut i.pending_logs)
    });
    const SQL: &str = "INSERT INTO predictions (customer_id, ts_ms, model_version, arm, probability, decision, inputs) \
        SELECT json_extract(value, '$.c'), json_extract(value, '$.t'), json_extract(value, '$.v'), json_extract(value, '$.a'), \
        json_extract(value, '$.p'), json_extract(value, '$.d'), json_extract(value, '$.i') FROM json_each(?1)";
    for chunk in rows.chunks(LOG_CHUNK) {
        let json = rows_json(chunk);
        let written = match db.prepare(SQL).bind(&[JsValue::from_str(&json)]) {
            Ok(statement) => statement.run().await.map(|_| ()),
            Err(e) => Err(e),
        };
        if let Err(e) = written {
            worker::console_error!(
                "prediction log: writing {} rows failed ({})",
                chunk.len(),
                error_kind(&e)
            );
        }
    }
}

/// `[{"c": id, "t": ms, "v": version, "a": arm, "p": probability, "d": 0|1, "i": {inputs}}]`.
fn rows_json(rows: &[LogRow]) -> String {
    let text = |s: Option<&str>| serde_json::to_string(&s).unwrap_or_else(|_| "null".into());
    let mut out = String::with_capacity(rows.len() * 512);
    out.push('[');
    for (k, row) in rows.iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        out.push_str(&format!(
            "{{\"c\":{},\"t\":{},\"v\":{},\"a\":{},\"p\":{},\"d\":{},\"i\":{}}}",
            text(row.customer_id.as_deref()),
            row.ts_ms,
            text(Some(&row.model_version)),
            text(row.arm),
            serde_json::to_string(&row.probability).unwrap_or_else(|_| "null".into()),
            u8::from(row.decision),
            row.inputs
        ));
    }
    out.push(']');
    out
}

/// Stores labels (one per customer, the latest wins).
pub async fn save_labels(db: &D1Database, labels: &[Label], now_ms: u64) -> Result<(), ApiError> {
    const SQL: &str = "INSERT INTO labels (customer_id, churned, ts_ms) VALUES (?1, ?2, ?3) ON CONFLICT (customer_id) DO UPDATE SET churned = excluded.churned, ts_ms = excluded.ts_ms";
    let statements = labels
        .iter()
        .map(|l| {
            db.prepare(SQL).bind(&[
                JsValue::from_str(&l.customer_id),
                JsValue::from_f64(if l.churned { 1.0 } else { 0.0 }),
                JsValue::from_f64(now_ms as f64),
            ])
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| storage("preparing the labels", e))?;
    db.batch(statements)
        .await
        .map_err(|e| storage("storing the labels", e))?;
    Ok(())
}

/// The most recent `limit` predictions since `since_ms`, oldest first, with labels joined.
pub async fn recent_predictions(
    db: &D1Database,
    since_ms: u64,
    limit: u64,
) -> Result<Vec<LoggedPrediction>, ApiError> {
    let statement = db
        .prepare(
            "SELECT p.customer_id, p.model_version, p.arm, p.probability, p.inputs, l.churned \
             FROM predictions p LEFT JOIN labels l ON l.customer_id = p.customer_id \
             WHERE p.ts_ms >= ?1 ORDER BY p.id DESC LIMIT ?2",
        )
        .bind(&[
            JsValue::from_f64(since_ms as f64),
            JsValue::from_f64(limit as f64),
        ])
        .map_err(|e| storage("querying predictions", e))?;
    let rows = all_raw(&statement)
        .await
        .map_err(|e| storage("querying predictions", e))?;
    let mut logged = Vec::with_capacity(rows.length() as usize);
    for row in rows.iter().rev() {
        let row = RawRow::new(row, "reading predictions")?;
        logged.push(LoggedPrediction {
            customer_id: row.optional_text(0)?,
            model_version: row.text(1)?,
            arm: row.optional_text(2)?,
            probability: row.number(3)?,
            inputs: row.text(4)?,
            churned: row.optional_number(5)?.map(|c| c as i64),
        });
    }
    Ok(logged)
}

/// Every row of `statement` as arrays of columns, a failure converted as
/// `D1PreparedStatement::all` converts it (a JavaScript error, not D1's error type), so the
/// kind a failed monitoring query reports stays the one `all()` gave it.
async fn all_raw(statement: &D1PreparedStatement) -> worker::Result<Array> {
    let rows = wasm_bindgen_futures::JsFuture::from(statement.inner().raw()?).await?;
    Ok(rows.dyn_into::<Array>()?)
}

/// Deletes a customer's predictions and labels; returns the rows removed from each. The
/// predictions this isolate has queued for the log but not yet written are dropped first (and
/// counted): otherwise the next flush would write them back after the deletion.
pub async fn delete_customer(db: &D1Database, id: &str) -> Result<(usize, usize), ApiError> {
    let queued = with_isolate(|i| {
        let before = i.pending_logs.len();
        i.pending_logs
            .retain(|row| row.customer_id.as_deref() != Some(id));
        before - i.pending_logs.len()
    });
    let statements = [
        "DELETE FROM predictions WHERE customer_id = ?1 RETURNING 1",
        "DELETE FROM labels WHERE customer_id = ?1 RETURNING 1",
    ]
    .into_iter()
    .map(|sql| db.prepare(sql).bind(&[JsValue::from_str(id)]))
    .collect::<Result<Vec<_>, _>>()
    .map_err(|e| storage("preparing the deletion", e))?;
    // One batch, so both deletions happen or neither does. Each statement returns a row per
    // deleted row; they are counted without reading them (`IgnoredAny`: no per-type reader,
    // and no `meta()`, whose reader was serde_wasm_bindgen's largest).
    let results = db
        .batch(statements)
        .await
        .map_err(|e| storage("deleting the customer's data", e))?;
    let mut deleted = [0; 2];
    for (count, result) in deleted.iter_mut().zip(&results) {
        *count = result
            .results::<serde::de::IgnoredAny>()
            .map_err(|e| storage("counting the deleted rows", e))?
            .len();
    }
    Ok((queued + deleted[0], deleted[1]))
}

/// A stored monitoring run.
#[derive(serde::Serialize)]
pub struct MonitoringRun {
    /// When (ms).
    pub ts_ms: f64,
    /// `cron` or `manual`.
    pub trigger: String,
    /// Model checked.
    pub model_version: String,
    /// `ok` / `warn` / `drift`.
    pub status: String,
    /// Whether it alerted.
    pub alert: f64,
    /// Whether the webhook accepted the alert.
    pub alert_sent: f64,
}

/// Records a monitoring run.
pub async fn save_monitoring_run(
    db: &D1Database,
    run: &MonitoringRun,
    report: &str,
) -> Result<(), ApiError> {
    db.prepare("INSERT INTO monitoring_runs (ts_ms, trigger, model_version, status, alert, alert_sent, report) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
        .bind(&[
            JsValue::from_f64(run.ts_ms),
            JsValue::from_str(&run.trigger),
            JsValue::from_str(&run.model_version),
            JsValue::from_str(&run.status),
            JsValue::from_f64(run.alert),
            JsValue::from_f64(run.alert_sent),
            JsValue::from_str(report),
        ])
        .map_err(|e| storage("preparing the monitoring run", e))?
        .run()
        .await
        .map_err(|e| storage("storing the monitoring run", e))?;
    Ok(())
}

/// The latest monitoring run, if any.
pub async fn last_monitoring_run(db: &D1Database) -> Result<Option<MonitoringRun>, ApiError> {
    let statement = db.prepare("SELECT ts_ms, trigger, model_version, status, alert, alert_sent FROM monitoring_runs ORDER BY id DESC LIMIT 1");
    let Some(row) = first_row(statement, "reading the last monitoring run").await? else {
        return Ok(None);
    };
    Ok(Some(MonitoringRun {
        ts_ms: row.number(0)?,
        trigger: row.text(1)?,
        model_version: row.text(2)?,
        status: row.text(3)?,
        alert: row.number(4)?,
        alert_sent: row.number(5)?,
    }))
}
