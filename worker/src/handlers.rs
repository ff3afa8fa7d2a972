//! The Workers entry points (`fetch`, `scheduled`) and one handler per route.

use std::rc::Rc;

use ebb_core::metrics::Report;
use ebb_core::monitor::Verdict;
use ebb_core::serve::artifact::TrainingMetrics;
use ebb_edge::auth::Tokens;
use ebb_edge::cors::{AllowedOrigins, Header, OriginError};
use ebb_edge::error::Problem;
use ebb_edge::experiment::{Arm, Experiment, ExperimentRequest};
use ebb_edge::labels::parse_labels;
use ebb_edge::model::{Customer, LoadedModel, ModelSummary, Prediction};
use ebb_edge::monitoring::{self, MonitoringReport};
use ebb_edge::registry::{self, Registered, Registry, ARTIFACT_LIMIT, MAX_MODEL_BYTES};
use ebb_edge::request::{
    explain_count, number_param, parse_batch, parse_customer, parse_json, BodyLimit, Record,
    REQUEST_LIMIT,
};
use ebb_edge::route::{query_of, Access, Route};
use ebb_edge::{ApiError, ErrorCode};
use serde::Serialize;
use worker::{
    event, web_sys, Context, Env, Fetch, Headers, Request, Response, ResponseBuilder,
    ScheduleContext, ScheduledEvent,
};

use crate::store::{self, with_isolate, LogRow, MonitoringRun, Serving};

const OPENAPI: &str = include_str!("../openapi.yaml");
/// Default monitoring window and the most rows one report reads (bounds CPU time).
const DEFAULT_WINDOW_HOURS: u64 = 24;
const DEFAULT_MONITORING_ROWS: u64 = 10_000;

/// An answer: status, body, content type and any headers beyond those every answer has.
struct Answer {
    status: u16,
    body: String,
    content_type: &'static str,
    headers: Vec<Header>,
}

impl Answer {
    fn json(status: u16, body: &impl serde::Serialize) -> Answer {
        Answer::text(
            status,
            serde_json::to_string(body).unwrap_or_default(),
            "application/json",
        )
    }

    fn text(status: u16, body: String, content_type: &'static str) -> Answer {
        Answer {
            status,
            body,
            content_type,
            headers: Vec::new(),
        }
    }
}

fn now_ms() -> u64 {
    // `Date.now()` itself: worker's `Date::now()` allocates a JS `Date` object on every call.
    js_sys::Date::now() as u64
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    let started = now_ms();
    let method = req.method().to_string();
    let path = req.path();
    let origin = req.headers().get("origin").ok().flatten();
    let origins = allowed_origins(&env);
    let (pattern, mut answer) = match (origins.as_ref(), method.as_str()) {
        // Refusing everything makes a bad list show at the first request after a deploy,
        // rather than as a browser's CORS failure somewhere else.
        (Err(e), _) => (
            "unmatched",
            error_answer(&ApiError::misconfigured(e.to_string())),
        ),
        (Ok(origins), "OPTIONS") => (
            "preflight",
            match origins.preflight(origin.as_deref(), &path) {
                Ok(headers) => Answer {
                    headers,
                    ..Answer::text(204, String::new(), "")
                },
                Err(e) => error_answer(&e),
            },
        ),
        (Ok(_), _) => {
            let route = Route::parse(&method, &path);
            let pattern = route.as_ref().map_or("unmatched", Route::pattern);
            let answer = match route {
                Ok(route) => match handle(route, req, &env, &ctx).await {
                    Ok(answer) => answer,
                    Err(e) => error_answer(&e),
                },
                Err(e) => error_answer(&e),
            };
            (pattern, answer)
        }
    };
    if let Ok(origins) = origins.as_ref() {
        answer.headers.extend(origins.headers(origin.as_deref()));
    }
    let elapsed = now_ms().saturating_sub(started) as f64 / 1000.0;
    with_isolate(|i| i.metrics.observe_request(pattern, answer.status, elapsed));
    // One Headers object (`Response::ok` would build a second one for its default type).
    let mut response = ResponseBuilder::new()
        .with_status(answer.status)
        .with_header("cache-control", "no-store")?;
    for (name, value) in &answer.headers {
        response = response.with_header(name, value)?;
    }
    if answer.body.is_empty() {
        // A 204 must have no body at all (the runtime refuses even an empty one).
        return Ok(response.empty());
    }
    Ok(response
        .with_header("content-type", answer.content_type)?
        .fixed(answer.body.into_bytes()))
}

/// The size of this isolate's WebAssembly linear memory, for `ebb_wasm_memory_bytes`.
fn wasm_memory_bytes() -> u64 {
    use wasm_bindgen::JsCast;
    let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
    memory
        .buffer()
        .unchecked_into::<js_sys::ArrayBuffer>()
        .byte_length() as u64
}

fn error_answer(e: &ApiError) -> Answer {
    with_isolate(|i| i.metrics.observe_error(e.error.as_str()));
    let mut answer = Answer::text(e.status, e.to_json(), "application/json");
    if e.error == ErrorCode::RegistryBusy {
        // The change was not made and may simply be sent again; say when.
        answer.headers.push(("retry-after", "1".into()));
    }
    answer
}

/// The tokens, read from the secrets once per isolate: a changed secret is a new deployment,
/// which starts new isolates.
fn tokens(env: &Env) -> Rc<Tokens> {
    thread_local! {
        static TOKENS: std::cell::OnceCell<Rc<Tokens>> = const { std::cell::OnceCell::new() };
    }
    TOKENS.with(|cell| {
        cell.get_or_init(|| {
            let secret = |name: &str| env.secret(name).ok().map(|s| s.to_string());
            Rc::new(Tokens {
                api: secret("API_TOKEN"),
                admin: secret("ADMIN_TOKEN"),
                metrics: secret("METRICS_TOKEN"),
            })
        })
        .clone()
    })
}

/// `ALLOWED_ORIGINS`, read once per isolate like the tokens (a changed variable is a new
/// deployment).
fn allowed_origins(env: &Env) -> Rc<Result<AllowedOrigins, OriginError>> {
    thread_local! {
        static ORIGINS: std::cell::OnceCell<Rc<Result<AllowedOrigins, OriginError>>> =
            const { std::cell::OnceCell::new() };
    }
    ORIGINS.with(|cell| {
        cell.get_or_init(|| {
            let list = var(env, "ALLOWED_ORIGINS").unwrap_or_default();
            let parsed = AllowedOrigins::parse(&list);
            if let Err(e) = &parsed {
                worker::console_error!("{e}");
            }
            Rc::new(parsed)
        })
        .clone()
    })
}

fn var(env: &Env, name: &str) -> Option<String> {
    env.var(name)
        .ok()
        .map(|v| v.to_string())
        .filter(|v| !v.is_empty())
}

async fn body(req: &mut Request, limit: BodyLimit) -> Result<Vec<u8>, ApiError> {
    let declared = req.headers().get("content-length").ok().flatten();
    limit.check_declared(declared.as_deref())?;
    let bytes = req
        .bytes()
        .await
        .map_err(|e| ApiError::bad_request(format!("the body could not be read: {e}")))?;
    limit.check(&bytes)?;
    Ok(bytes)
}

async fn handle(
    route: Route,
    mut req: Request,
    env: &Env,
    ctx: &Context,
) -> Result<Answer, ApiError> {
    let header = req.headers().get("authorization").ok().flatten();
    let access = route.authorize(header.as_deref(), &tokens(env))?;
    // The path was parsed when the request arrived; the query needs no second URL parse.
    let query = query_of(&req.inner().url()).to_string();
    match route {
        Route::Health => health(env).await,
        Route::AppInfo => app_info(env, access).await,
        Route::Metrics => Ok(Answer::text(
            200,
            with_isolate(|i| i.metrics.render(Some(wasm_memory_bytes()))),
            "text/plain; version=0.0.4",
        )),
        Route::OpenApi => Ok(Answer::text(200, OPENAPI.to_string(), "application/yaml")),
        Route::Predict => {
            let reasons = explain_count(&query)?;
            let bytes = body(&mut req, REQUEST_LIMIT).await?;
            predict(env, ctx, Customers::One(bytes), reasons).await
        }
        Route::PredictBatch => {
            let reasons = explain_count(&query)?;
            let records = parse_batch(&body(&mut req, REQUEST_LIMIT).await?)?;
            predict(env, ctx, Customers::Batch(records), reasons).await
        }
        Route::ListModels => {
            // The registry document itself: its `active`, `models`, `history` and `experiment`.
            let registry = store::serving_registry(env, now_ms()).await?;
            Ok(Answer::json(200, &*registry))
        }
        Route::GetModel(id) => get_model(env, &id).await,
        Route::PutModel(id) => {
            let bytes = body(&mut req, ARTIFACT_LIMIT).await?;
            put_model(env, &id, &bytes, &query).await
        }
        Route::Activate(id) => {
            if !store::current_registry(env, now_ms()).await?.contains(&id) {
                return Err(registry::unknown(&id));
            }
            // Refuse to activate what cannot serve.
            store::load_model(env, &id)
                .await
                .map_err(|reason| ApiError::conflict(format!("cannot activate: {reason}")))?;
            let now = now_ms();
            let activation =
                store::update_registry(env, now, |r| r.activate(&id, now).cloned()).await?;
            Ok(Answer::json(200, &activation))
        }
        Route::Rollback => {
            let now = now_ms();
            let activation = store::update_registry(env, now, |r| r.rollback(now).cloned()).await?;
            Ok(Answer::json(200, &activation))
        }
        Route::GetExperiment => {
            let registry = store::serving_registry(env, now_ms()).await?;
            Ok(Answer::json(
                200,
                &ExperimentAnswer {
                    experiment: registry.experiment.as_ref(),
                },
            ))
        }
        Route::PutExperiment => {
            let value = parse_json(&body(&mut req, REQUEST_LIMIT).await?)?;
            let registry = store::current_registry(env, now_ms()).await?;
            let experiment = ExperimentRequest::parse(&value, |v| registry.contains(v), now_ms())?;
            for version in [&experiment.control, &experiment.treatment] {
                store::load_model(env, version).await.map_err(|reason| {
                    ApiError::conflict(format!("cannot start the experiment: {reason}"))
                })?;
            }
            // Versions are never unregistered, so the check above still holds when it is
            // written.
            store::update_registry(env, now_ms(), |r| {
                r.experiment = Some(experiment.clone());
                Ok(())
            })
            .await?;
            Ok(Answer::json(
                200,
                &ExperimentAnswer {
                    experiment: Some(&experiment),
                },
            ))
        }
        Route::EndExperiment => {
            let ended = store::update_registry(env, now_ms(), |r| {
                r.experiment
                    .take()
                    .ok_or_else(|| ApiError::not_found("no experiment is running"))
            })
            .await?;
            Ok(Answer::json(200, &Ended { ended }))
        }
        Route::Labels => {
            let labels = parse_labels(&body(&mut req, REQUEST_LIMIT).await?)?;
            store::save_labels(&store::db(env)?, &labels, now_ms()).await?;
            Ok(Answer::json(
                200,
                &Stored {
                    stored: labels.len(),
                },
            ))
        }
        Route::Monitoring => {
            let hours = number_param(&query, "hours", window_hours(env), 1..=24 * 90)?;
            let limit = number_param(&query, "limit", DEFAULT_MONITORING_ROWS, 1..=50_000)?;
            let report = monitoring_report(env, hours, limit).await?;
            Ok(Answer::json(200, &report))
        }
        Route::DeleteCustomer(id) => {
            let (predictions, labels) = store::delete_customer(&store::db(env)?, &id).await?;
            Ok(Answer::json(
                200,
                &Deleted {
                    customer_id: &id,
                    deleted_labels: labels,
                    deleted_predictions: predictions,
                },
            ))
        }
    }
}

/// The customers of a predict request: one body, read straight into each model's inputs, or a
/// batch already parsed into objects.
enum Customers {
    One(Vec<u8>),
    Batch(Vec<Record>),
}

impl Customers {
    fn len(&self) -> usize {
        match self {
            Customers::One(_) => 1,
            Customers::Batch(records) => records.len(),
        }
    }

    /// Customer `i` as `model` reads it.
    fn read(&self, model: &LoadedModel, i: usize) -> Result<Customer<'_>, ApiError> {
        match self {
            Customers::One(body) => model.read(body),
            Customers::Batch(records) => model.read_record(&records[i]),
        }
    }

    /// The body's own error, if any: a malformed body is reported before any model is looked
    /// up, as when it was parsed first.
    fn check(&self) -> Result<(), ApiError> {
        match self {
            Customers::One(body) => parse_customer(body).map(drop),
            Customers::Batch(_) => Ok(()),
        }
    }
}

/// The registry, the active model and, in an experiment, each arm's model.
async fn serving_models(
    env: &Env,
) -> Result<(Rc<Registry>, Serving, Vec<(Arm, Serving)>), ApiError> {
    let registry = store::serving_registry(env, now_ms()).await?;
    let active = registry.active.clone().ok_or_else(|| {
        ApiError::unavailable(
            "no model is active: upload one with PUT /v1/models/{id} and POST /v1/models/{id}/activate",
        )
    })?;
    let control = store::serving_model(env, &registry, &active).await?;
    // In an experiment each customer's arm picks the version; a broken arm falls back to the
    // active model (flagged degraded) rather than failing the customer.
    let mut arms: Vec<(Arm, Serving)> = Vec::new();
    if let Some(experiment) = &registry.experiment {
        for arm in [Arm::Control, Arm::Treatment] {
            let serving = store::serving_model(env, &registry, experiment.version(arm)).await;
            let serving = match serving {
                Ok(s) => s,
                Err(e) => Serving {
                    model: control.model.clone(),
                    degraded: Some(e.message),
                },
            };
            arms.push((arm, serving));
        }
    }
    Ok((registry, control, arms))
}

async fn predict(
    env: &Env,
    ctx: &Context,
    customers: Customers,
    reasons: usize,
) -> Result<Answer, ApiError> {
    let batch = matches!(customers, Customers::Batch(_));
    let (registry, control, arms) = match serving_models(env).await {
        Ok(models) => models,
        Err(e) => {
            customers.check()?;
            return Err(e);
        }
    };
    let mut predictions: Vec<Prediction> = Vec::with_capacity(customers.len());
    let mut problems: Vec<Problem> = Vec::new();
    let mut logs = Vec::with_capacity(customers.len());
    let mut degraded: Option<String> = control.degraded.clone();
    let served_at = now_ms();
    for i in 0..customers.len() {
        let read = customers.read(&control.model, i)?;
        let (model, arm, customer): (&Rc<LoadedModel>, Option<Arm>, Customer<'_>) =
            match &registry.experiment {
                Some(experiment) => {
                    let arm = experiment.arm_for(read.customer_id());
                    let serving = &arms.iter().find(|(a, _)| *a == arm).expect("both arms").1;
                    if serving.degraded.is_some() {
                        degraded = serving.degraded.clone();
                    }
                    // Another version may read other fields: it reads the customer itself.
                    let customer = if serving.model.version() == control.model.version() {
                        read
                    } else {
                        customers.read(&serving.model, i)?
                    };
                    (&serving.model, Some(arm), customer)
                }
                None => (&control.model, None, read),
            };
        match model.predict(&customer, reasons) {
            Ok(mut p) => {
                p.arm = arm.map(Arm::name);
                logs.push(LogRow {
                    customer_id: p.customer_id.clone(),
                    model_version: p.model_version.clone(),
                    arm: p.arm,
                    probability: p.probability,
                    decision: p.decision,
                    inputs: model.logged_inputs(&customer),
                    ts_ms: served_at,
                });
                predictions.push(p);
            }
            Err(found) => problems.extend(found.into_iter().map(|p| Problem {
                field: if batch {
                    if p.field.is_empty() {
                        format!("customers[{i}]")
                    } else {
                        format!("customers[{i}].{}", p.field)
                    }
                } else {
                    p.field
                },
                message: p.message,
            })),
        }
    }
    if !problems.is_empty() {
        return Err(ApiError::invalid_fields(problems));
    }
    with_isolate(|i| {
        for p in &predictions {
            i.metrics.observe_predictions(&p.model_version, 1);
        }
    });
    if store::queue_predictions(logs) {
        match store::db(env) {
            Ok(db) => ctx.wait_until(store::flush_predictions(db)),
            Err(e) => worker::console_error!("prediction log unavailable: {}", e.message),
        }
    }
    let degraded_flag = degraded.is_some();
    if batch {
        Ok(Answer::json(
            200,
            &Batch {
                count: predictions.len(),
                degraded: degraded_flag,
                degraded_reason: degraded,
                predictions: &predictions,
            },
        ))
    } else {
        Ok(Answer::json(
            200,
            &One {
                prediction: &predictions[0],
                degraded: degraded_flag,
                degraded_reason: degraded,
            },
        ))
    }
}

/// The answer to `POST /v1/predict`: the prediction's fields and whether a fallback served it,
/// written straight to text (not through a `serde_json::Value` map first, which cost every
/// request a map of owned keys and values).
#[derive(Serialize)]
struct One<'a> {
    #[serde(flatten)]
    prediction: &'a Prediction,
    degraded: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    degraded_reason: Option<String>,
}

// The other answers' bodies, written straight to text like `One` (they were `json!` values:
// a map built per answer, and every type in them compiled a second time for serde_json's
// `Value` serializer). Keys in the order `json!`'s sorted map wrote them, except app-info's
// details, which follow its other keys.

/// `GET` and `PUT /v1/experiment`.
#[derive(Serialize)]
struct ExperimentAnswer<'a> {
    experiment: Option<&'a Experiment>,
}

/// `DELETE /v1/experiment`.
#[derive(Serialize)]
struct Ended {
    ended: Experiment,
}

/// `POST /v1/labels`.
#[derive(Serialize)]
struct Stored {
    stored: usize,
}

/// `DELETE /v1/customers/{id}`.
#[derive(Serialize)]
struct Deleted<'a> {
    customer_id: &'a str,
    deleted_labels: usize,
    deleted_predictions: usize,
}

/// `POST /v1/predict/batch`.
#[derive(Serialize)]
struct Batch<'a> {
    count: usize,
    degraded: bool,
    degraded_reason: Option<String>,
    predictions: &'a [Prediction],
}

/// `GET /v1/models/{id}`.
#[derive(Serialize)]
struct ModelAnswer<'a> {
    active: bool,
    bytes: usize,
    summary: ModelSummary,
    training_metrics: &'a TrainingMetrics,
    uploaded_at_ms: u64,
    version: &'a str,
}

/// `PUT /v1/models/{id}`.
#[derive(Serialize)]
struct Uploaded<'a> {
    active: bool,
    created: bool,
    summary: ModelSummary,
    version: &'a str,
}

/// `GET /v1/health` when a model serves.
#[derive(Serialize)]
struct Healthy<'a> {
    active_model: &'a str,
    degraded: bool,
    degraded_reason: Option<String>,
    serving_model: &'a str,
    status: &'static str,
}

/// `GET /v1/health` when none does.
#[derive(Serialize)]
struct Unavailable<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    active_model: Option<&'a str>,
    degraded: bool,
    reason: &'a str,
    status: &'static str,
}

/// `GET /v1/app-info`; `details` only for a caller allowed to see them.
#[derive(Serialize)]
struct AppInfo<'a> {
    active_model: Option<&'a str>,
    degraded: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    details_withheld: Option<&'static str>,
    name: &'static str,
    status: &'static str,
    version: &'static str,
    #[serde(flatten)]
    details: Option<AppDetails<'a>>,
}

/// The model's side of `GET /v1/app-info`.
#[derive(Serialize)]
struct AppDetails<'a> {
    experiment: Option<&'a Experiment>,
    last_monitoring_run: Option<MonitoringRun>,
    limits: Limits,
    registered_models: usize,
    serving_model: Option<ServingDetails<'a>>,
}

/// The request limits `GET /v1/app-info` states.
#[derive(Serialize)]
struct Limits {
    max_batch: usize,
    max_body_bytes: usize,
    max_model_bytes: usize,
}

/// The serving model in `GET /v1/app-info`.
#[derive(Serialize)]
struct ServingDetails<'a> {
    summary: ModelSummary,
    training_metrics: &'a Report,
}

/// The JSON the daily check posts to `ALERT_WEBHOOK`.
#[derive(Serialize)]
struct Alert<'a> {
    alert: bool,
    flagged_columns: Vec<&'a str>,
    model_version: &'a str,
    predictions: u64,
    reasons: &'a [String],
    source: &'static str,
    status: &'a str,
    window_end_ms: u64,
    window_start_ms: u64,
}

async fn get_model(env: &Env, id: &str) -> Result<Answer, ApiError> {
    let registry = store::serving_registry(env, now_ms()).await?;
    let entry = registry.get(id).ok_or_else(|| registry::unknown(id))?;
    let model = store::load_model(env, id)
        .await
        .map_err(ApiError::unavailable)?;
    Ok(Answer::json(
        200,
        &ModelAnswer {
            active: registry.active.as_deref() == Some(id),
            bytes: entry.bytes,
            summary: model.summary(),
            training_metrics: &model.artifact().metrics,
            uploaded_at_ms: entry.uploaded_at_ms,
            version: id,
        },
    ))
}

async fn put_model(env: &Env, id: &str, bytes: &[u8], query: &str) -> Result<Answer, ApiError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ApiError::bad_request("the artifact is not UTF-8 JSON"))?;
    let model = LoadedModel::from_json(text)?;
    let summary = model.summary();
    registry::check_id(id, &summary)?;
    let kv = store::kv(env)?;
    // The artifact goes in first, so a registered version always has one. Versions are never
    // unregistered: if this isolate's copy lists it, the artifact is there already.
    if !store::serving_registry(env, now_ms()).await?.contains(id) {
        store::save_artifact(&kv, id, text).await?;
    }
    let activate = ebb_edge::request::query_param(query, "activate")
        .is_some_and(|v| v.is_empty() || v == "true" || v == "1");
    let now = now_ms();
    let (outcome, active) = store::update_registry(env, now, |r| {
        let outcome = r.register(id, &summary, bytes.len(), now)?;
        if activate && r.active.as_deref() != Some(id) {
            r.activate(id, now)?;
        }
        Ok((outcome, r.active.as_deref() == Some(id)))
    })
    .await?;
    Ok(Answer::json(
        if outcome == Registered::Added {
            201
        } else {
            200
        },
        &Uploaded {
            active,
            created: outcome == Registered::Added,
            summary,
            version: id,
        },
    ))
}

async fn health(env: &Env) -> Result<Answer, ApiError> {
    let registry = store::serving_registry(env, now_ms()).await?;
    let Some(active) = registry.active.clone() else {
        return Ok(Answer::json(
            503,
            &Unavailable {
                active_model: None,
                degraded: false,
                reason: "no model is active",
                status: "unavailable",
            },
        ));
    };
    match store::serving_model(env, &registry, &active).await {
        Ok(serving) => Ok(Answer::json(
            200,
            &Healthy {
                active_model: &active,
                degraded: serving.degraded.is_some(),
                serving_model: serving.model.version(),
                status: if serving.degraded.is_some() {
                    "degraded"
                } else {
                    "ok"
                },
                degraded_reason: serving.degraded,
            },
        )),
        Err(e) => Ok(Answer::json(
            503,
            &Unavailable {
                active_model: Some(&active),
                degraded: true,
                reason: &e.message,
                status: "unavailable",
            },
        )),
    }
}

async fn app_info(env: &Env, access: Access) -> Result<Answer, ApiError> {
    let registry = store::serving_registry(env, now_ms()).await?;
    let serving = match &registry.active {
        Some(active) => Some(store::serving_model(env, &registry, active).await),
        None => None,
    };
    let status = match &serving {
        None | Some(Err(_)) => "unavailable",
        Some(Ok(s)) if s.degraded.is_some() => "degraded",
        Some(Ok(_)) => "ok",
    };
    let mut info = AppInfo {
        active_model: registry.active.as_deref(),
        degraded: status == "degraded",
        details_withheld: None,
        details: None,
        name: "ebb",
        status,
        version: env!("CARGO_PKG_VERSION"),
    };
    if access == Access::StatusOnly {
        info.details_withheld = Some(
            "send METRICS_TOKEN (or the API or admin token) as a bearer token for the model's details",
        );
        return Ok(Answer::json(200, &info));
    }
    let last_run = match store::db(env) {
        Ok(db) => store::last_monitoring_run(&db).await.ok().flatten(),
        Err(_) => None,
    };
    info.details = Some(AppDetails {
        experiment: registry.experiment.as_ref(),
        last_monitoring_run: last_run,
        limits: Limits {
            max_batch: ebb_edge::request::MAX_BATCH,
            max_body_bytes: ebb_edge::request::MAX_BODY_BYTES,
            max_model_bytes: MAX_MODEL_BYTES,
        },
        registered_models: registry.models.len(),
        serving_model: match &serving {
            Some(Ok(s)) => Some(ServingDetails {
                summary: s.model.summary(),
                training_metrics: &s.model.artifact().metrics.calibrated_cv,
            }),
            None | Some(Err(_)) => None,
        },
    });
    Ok(Answer::json(200, &info))
}

fn window_hours(env: &Env) -> u64 {
    var(env, "MONITORING_WINDOW_HOURS")
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_WINDOW_HOURS)
}

fn alert_level(env: &Env) -> Verdict {
    match var(env, "ALERT_LEVEL").as_deref() {
        Some("warn") => Verdict::Warn,
        _ => Verdict::Drift,
    }
}

async fn monitoring_report(
    env: &Env,
    hours: u64,
    limit: u64,
) -> Result<MonitoringReport, ApiError> {
    let registry = store::serving_registry(env, now_ms()).await?;
    let active = registry
        .active
        .clone()
        .ok_or_else(|| ApiError::unavailable("no model is active: nothing to monitor"))?;
    let model = store::load_model(env, &active)
        .await
        .map_err(ApiError::unavailable)?;
    let end = now_ms();
    let start = end.saturating_sub(hours * 3_600_000);
    let rows = store::recent_predictions(&store::db(env)?, start, limit).await?;
    let report = monitoring::report(&model, &rows, (start, end), alert_level(env));
    Ok(report)
}

/// The daily check: the same report as `GET /v1/monitoring`, stored in D1, and an alert JSON
/// posted to `ALERT_WEBHOOK` when it fires.
#[event(scheduled)]
async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let hours = window_hours(&env);
    let report = match monitoring_report(&env, hours, DEFAULT_MONITORING_ROWS).await {
        Ok(r) => r,
        Err(e) => {
            worker::console_error!("scheduled monitoring ({}): {}", event.cron(), e.message);
            return;
        }
    };
    let mut alert_sent = false;
    if report.alert {
        if let Some(url) = var(&env, "ALERT_WEBHOOK") {
            alert_sent = post_alert(&url, &report).await;
        }
    }
    let run = MonitoringRun {
        ts_ms: now_ms() as f64,
        trigger: "cron".into(),
        model_version: report.model_version.clone(),
        status: report.status.clone(),
        alert: if report.alert { 1.0 } else { 0.0 },
        alert_sent: if alert_sent { 1.0 } else { 0.0 },
    };
    let text = serde_json::to_string(&report).unwrap_or_default();
    match store::db(&env) {
        Ok(db) => {
            if let Err(e) = store::save_monitoring_run(&db, &run, &text).await {
                worker::console_error!("scheduled monitoring: {}", e.message);
            }
        }
        Err(e) => worker::console_error!("scheduled monitoring: {}", e.message),
    }
}

async fn post_alert(url: &str, report: &MonitoringReport) -> bool {
    let body = Alert {
        alert: true,
        flagged_columns: report.flagged_columns(),
        model_version: &report.model_version,
        predictions: report.predictions,
        reasons: &report.alert_reasons,
        source: "ebb",
        status: &report.status,
        window_end_ms: report.window_end_ms,
        window_start_ms: report.window_start_ms,
    };
    let headers = Headers::new();
    if headers.set("content-type", "application/json").is_err() {
        return false;
    }
    // The runtime's own RequestInit, not worker's: converting worker's (`Request::new_with_init`)
    // also converts its `cf` properties through serde_wasm_bindgen, ~16 KB of wasm for options
    // this request never sets (BENCHMARKS.md, "Worker wasm size, session 12").
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers.0);
    init.set_body(&serde_json::to_string(&body).unwrap_or_default().into());
    let sent = match web_sys::Request::new_with_str_and_init(url, &init) {
        Ok(request) => Fetch::Request(request.into()).send().await,
        Err(_) => Err(worker::Error::JsError(
            "invalid URL or options for the alert request".into(),
        )),
    };
    match sent {
        Ok(response) if (200..300).contains(&response.status_code()) => true,
        Ok(response) => {
            worker::console_error!("alert webhook answered {}", response.status_code());
            false
        }
        Err(e) => {
            worker::console_error!("alert webhook failed ({})", store::error_kind(&e));
            false
        }
    }
}
