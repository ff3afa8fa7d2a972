//! The models' KV namespace through the runtime's binding itself: its `get(key, {type:
//! "text"})` and `put(key, value)`, called directly. `worker::KvStore` builds those option
//! objects with serde_wasm_bindgen's serializer (its `GetOptions`, `PutOptions` and their
//! `serde_json::Value` metadata), which was the worker's last use of serde_wasm_bindgen: ~10 KB
//! of wasm for two fixed calls. Failures are the `KvError`s `KvStore` gives for the same calls,
//! so the messages and error kinds the API reports do not change.

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use worker::{Env, KvError};

/// One KV namespace binding.
pub struct Namespace {
    this: Object,
    get: Function,
    put: Function,
}

impl Namespace {
    /// The namespace bound as `binding` (`KvError::InvalidKvStore` when there is none, as
    /// `Env::kv` answers).
    pub fn open(env: &Env, binding: &str) -> Result<Self, KvError> {
        let this = Reflect::get(env.as_ref(), &JsValue::from_str(binding))?;
        if this.is_undefined() {
            return Err(KvError::InvalidKvStore(binding.into()));
        }
        let method = |name: &str| Reflect::get(&this, &JsValue::from_str(name));
        Ok(Namespace {
            get: method("get")?.into(),
            put: method("put")?.into(),
            this: this.into(),
        })
    }

    /// The value of `key` as text; `None` when the key is absent.
    pub async fn text(&self, key: &str) -> Result<Option<String>, KvError> {
        let options = Object::new();
        Reflect::set(&options, &"type".into(), &"text".into())?;
        let promise: Promise = self
            .get
            .call2(&self.this, &JsValue::from_str(key), &options)?
            .into();
        Ok(JsFuture::from(promise).await?.as_string())
    }

    /// Stores `value` as `key`'s text, with no expiry or metadata.
    pub async fn put_text(&self, key: &str, value: &str) -> Result<(), KvError> {
        let promise: Promise = self
            .put
            .call3(
                &self.this,
                &JsValue::from_str(key),
                &JsValue::from_str(value),
                &Object::new(),
            )?
            .into();
        JsFuture::from(promise).await?;
        Ok(())
    }
}
