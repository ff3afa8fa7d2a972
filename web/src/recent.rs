//! Recent models kept in this browser's IndexedDB (database `ebb`, store `models`, keyed by
//! model id), so they survive a reload: at most [`KEEP`], newest first. Each record holds the
//! model's file beside what the list shows; the page holds only the latter and reads a file
//! back when it is used.

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbObjectStoreParameters, IdbRequest, IdbTransactionMode};

/// Models kept; saving one more drops the oldest.
pub const KEEP: usize = 10;
const DB: &str = "ebb";
const STORE: &str = "models";

/// One kept model, as the list shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recent {
    pub id: String,
    pub family: String,
    pub created_at: String,
    pub cv_roc_auc: f64,
    /// When it was kept (ms since the epoch), for the order.
    pub saved_at_ms: f64,
}

/// The stored record: [`Recent`]'s fields and the model file.
#[derive(Serialize)]
struct Record<'a> {
    id: &'a str,
    family: &'a str,
    created_at: &'a str,
    cv_roc_auc: f64,
    saved_at_ms: f64,
    json: &'a str,
}

/// The file part of a stored record.
#[derive(Deserialize)]
struct File {
    json: String,
}

fn js_error(what: &str, e: JsValue) -> String {
    let detail = e
        .dyn_ref::<web_sys::DomException>()
        .map(|e| e.message())
        .or_else(|| {
            e.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"));
    format!("the browser's storage (IndexedDB) refused to {what}: {detail}")
}

/// Waits for `request` to succeed (its result) or fail (its error).
async fn done(request: &IdbRequest) -> Result<JsValue, JsValue> {
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        let ok = request.clone();
        let on_success = Closure::once_into_js(move || {
            let _ = resolve.call1(&JsValue::NULL, &ok.result().unwrap_or(JsValue::UNDEFINED));
        });
        let failed = request.clone();
        let on_error = Closure::once_into_js(move || {
            let error = failed
                .error()
                .ok()
                .flatten()
                .map_or(JsValue::UNDEFINED, JsValue::from);
            let _ = reject.call1(&JsValue::NULL, &error);
        });
        request.set_onsuccess(Some(on_success.unchecked_ref()));
        request.set_onerror(Some(on_error.unchecked_ref()));
    });
    JsFuture::from(promise).await
}

async fn open() -> Result<IdbDatabase, String> {
    let factory = web_sys::window()
        .ok_or("no window")?
        .indexed_db()
        .map_err(|e| js_error("open", e))?
        .ok_or("this browser offers no IndexedDB (private mode?): recent models cannot be kept")?;
    let request = factory
        .open_with_u32(DB, 1)
        .map_err(|e| js_error("open", e))?;
    // First open (or a newer version): create the store before `success` fires.
    let upgrading = request.clone();
    let on_upgrade = Closure::once_into_js(move || {
        if let Ok(db) = upgrading.result() {
            let db: IdbDatabase = db.unchecked_into();
            let params = IdbObjectStoreParameters::new();
            params.set_key_path(&"id".into());
            let _ = db.create_object_store_with_optional_parameters(STORE, &params);
        }
    });
    request.set_onupgradeneeded(Some(on_upgrade.unchecked_ref()));
    Ok(done(&request)
        .await
        .map_err(|e| js_error("open", e))?
        .unchecked_into())
}

fn store(db: &IdbDatabase, mode: IdbTransactionMode) -> Result<web_sys::IdbObjectStore, String> {
    db.transaction_with_str_and_mode(STORE, mode)
        .and_then(|t| t.object_store(STORE))
        .map_err(|e| js_error("start a transaction", e))
}

/// The kept models, newest first.
pub async fn list() -> Result<Vec<Recent>, String> {
    let db = open().await?;
    let request = store(&db, IdbTransactionMode::Readonly)?
        .get_all()
        .map_err(|e| js_error("read", e))?;
    let all = done(&request).await.map_err(|e| js_error("read", e))?;
    let mut models: Vec<Recent> = js_sys::Array::from(&all)
        .iter()
        // The file is skipped, not copied into wasm (serde ignores fields it does not know).
        // A record this page cannot read (written by another version) is left out, not fatal.
        .filter_map(|v| serde_wasm_bindgen::from_value(v).ok())
        .collect();
    models.sort_by(|a, b| b.saved_at_ms.total_cmp(&a.saved_at_ms));
    Ok(models)
}

/// The file of the kept model `id`.
pub async fn file(id: &str) -> Result<String, String> {
    let db = open().await?;
    let request = store(&db, IdbTransactionMode::Readonly)?
        .get(&id.into())
        .map_err(|e| js_error("read", e))?;
    let found = done(&request).await.map_err(|e| js_error("read", e))?;
    if found.is_undefined() {
        return Err(format!(
            "{id} is no longer kept in this browser (deleted in another tab?)"
        ));
    }
    serde_wasm_bindgen::from_value::<File>(found)
        .map(|f| f.json)
        .map_err(|e| format!("the kept copy of {id} is unreadable ({e}): delete it"))
}

/// Keeps `model` with its file `json` (replacing one with the same id) and drops the oldest
/// beyond [`KEEP`].
pub async fn save(model: &Recent, json: &str) -> Result<(), String> {
    let db = open().await?;
    let record = Record {
        id: &model.id,
        family: &model.family,
        created_at: &model.created_at,
        cv_roc_auc: model.cv_roc_auc,
        saved_at_ms: model.saved_at_ms,
        json,
    };
    let value = serde_wasm_bindgen::to_value(&record).map_err(|e| e.to_string())?;
    let request = store(&db, IdbTransactionMode::Readwrite)?
        .put(&value)
        .map_err(|e| js_error("save the model", e))?;
    done(&request)
        .await
        .map_err(|e| js_error("save the model", e))?;
    for old in list().await?.iter().skip(KEEP) {
        remove(&old.id).await?;
    }
    Ok(())
}

/// Forgets the model `id`.
pub async fn remove(id: &str) -> Result<(), String> {
    let db = open().await?;
    let request = store(&db, IdbTransactionMode::Readwrite)?
        .delete(&id.into())
        .map_err(|e| js_error("delete the model", e))?;
    done(&request)
        .await
        .map_err(|e| js_error("delete the model", e))?;
    Ok(())
}
