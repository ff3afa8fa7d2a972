//! Calls to an Ebb edge API from the page (`fetch`): the Service view reads `/v1/app-info` and the monitoring routes, the
//! Models view makes the registry calls `ebb publish` makes. Errors are sentences naming what
//! to fix, with the API's own message when it sent one.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestInit, Response};

/// Which token a call sends, to name it when the API refuses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token<'a> {
    None,
    Api(&'a str),
    Admin(&'a str),
    Metrics(&'a str),
}

/// `method url` with the token as `Authorization: Bearer` and `body` as JSON; the answer's
/// body when the status is 2xx.
pub async fn call(
    method: &str,
    url: &str,
    token: Token<'_>,
    body: Option<&str>,
) -> Result<String, String> {
    let window = web_sys::window().ok_or("no window")?;
    let init = RequestInit::new();
    init.set_method(method);
    let headers = Headers::new().map_err(|e| format!("{e:?}"))?;
    let (secret, which) = match token {
        Token::None => (None, ""),
        Token::Api(t) => (Some(t), "API"),
        Token::Admin(t) => (Some(t), "admin"),
        Token::Metrics(t) => (Some(t), "metrics"),
    };
    if let Some(t) = secret {
        headers
            .set("authorization", &format!("Bearer {}", t.trim()))
            .map_err(|e| format!("{e:?}"))?;
    }
    if let Some(b) = body {
        headers
            .set("content-type", "application/json")
            .map_err(|e| format!("{e:?}"))?;
        init.set_body(&b.into());
    }
    init.set_headers(&headers);
    let response: Response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .map_err(|_| {
            format!(
                "cannot reach {url}: check the URL, that the API is running, and that it allows this page's origin (ALLOWED_ORIGINS)"
            )
        })?
        .unchecked_into();
    let text = JsFuture::from(response.text().map_err(|e| format!("{e:?}"))?)
        .await
        .map_err(|e| format!("{method} {url}: the answer could not be read: {e:?}"))?
        .as_string()
        .unwrap_or_default();
    if response.ok() {
        return Ok(text);
    }
    let status = response.status();
    let message = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v["message"].as_str().map(String::from))
        .unwrap_or(text);
    Err(if status == 401 && secret.is_some() {
        format!("the {which} token was refused: {message}")
    } else {
        format!("{method} {url}: HTTP {status}: {message}")
    })
}
