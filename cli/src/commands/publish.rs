//! `ebb publish`: uploads a model artifact to a running edge worker (local `wrangler dev` or a
//! deployed one) and optionally activates it. The artifact is checked locally first, so a
//! corrupt file fails here with the same message the worker would give, and is sent as Ebb
//! saves it.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use serde_json::Value;

use crate::io::{print_json, read_artifact};
use crate::{CliError, CliResult};

/// Retries of an upload the worker answered with 503 `registry_busy` (a registry change that
/// kept losing the compare-and-swap to other admins' changes). Uploads are idempotent (the
/// version id is the content hash; the same content twice is a no-op), so sending again is safe.
const BUSY_RETRIES: u32 = 5;
/// The longest `Retry-After` honoured: a larger value (or none) waits this long instead of
/// leaving the command hanging.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

#[derive(Args)]
pub struct PublishArgs {
    /// Model artifact (JSON) written by `ebb train` or `ebb pipeline`.
    model: PathBuf,
    /// Base URL of the worker, e.g. http://127.0.0.1:8787 or https://ebb.example.workers.dev.
    #[arg(long)]
    to: String,
    /// The worker's ADMIN_TOKEN (or set EBB_ADMIN_TOKEN, which keeps it out of `ps`).
    #[arg(long, env = "EBB_ADMIN_TOKEN", hide_env_values = true)]
    token: String,
    /// Make it the active model once uploaded.
    #[arg(long)]
    activate: bool,
    /// Print the worker's JSON answer instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: PublishArgs) -> CliResult {
    let artifact = read_artifact(&args.model)?;
    // Sent as Ebb saves it, not as the file's bytes: the worker checks the content hash on the
    // bytes it receives, so a file a tool reformatted (keys reordered, numbers rewritten) that
    // loads here is accepted there too.
    let text = artifact
        .to_json()
        .map_err(|e| CliError::core(&args.model, e))?;
    let base = args.to.trim_end_matches('/');
    let mut url = format!("{base}/v1/models/{}", artifact.model_id);
    if args.activate {
        url.push_str("?activate=true");
    }
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(120))
        .build();
    let response = upload(&agent, &url, &args.token, &text, std::thread::sleep)?;
    let body: Value = response
        .into_json()
        .map_err(|e| CliError::other(format!("{url}: unreadable answer: {e}")))?;
    if args.json {
        print_json(&body);
        return Ok(());
    }
    let created = body["created"].as_bool().unwrap_or(false);
    let active = body["active"].as_bool().unwrap_or(false);
    println!(
        "published {} to {base} ({}){}",
        artifact.model_id,
        if created {
            "new version"
        } else {
            "already there"
        },
        if active {
            ", active"
        } else {
            ", not active: add --activate or POST /v1/models/{id}/activate"
        }
    );
    Ok(())
}

/// PUTs the artifact, sending it again (at most [`BUSY_RETRIES`] times, after the answer's
/// `Retry-After`, saying so on stderr) while the worker answers 503 `registry_busy`. `sleep` is
/// a parameter so the tests do not wait.
fn upload(
    agent: &ureq::Agent,
    url: &str,
    token: &str,
    text: &str,
    sleep: impl Fn(Duration),
) -> Result<ureq::Response, CliError> {
    let mut retries = 0;
    loop {
        let answer = agent
            .put(url)
            .set("authorization", &format!("Bearer {token}"))
            .set("content-type", "application/json")
            .send_string(text);
        match answer {
            Ok(response) => return Ok(response),
            Err(ureq::Error::Status(status, response)) => {
                let retry_after = response.header("retry-after").map(str::to_owned);
                let body = response.into_string().unwrap_or_default();
                let parsed = serde_json::from_str::<Value>(&body).ok();
                let error = parsed.as_ref().and_then(|v| v["error"].as_str());
                let message = parsed
                    .as_ref()
                    .and_then(|v| v["message"].as_str().map(String::from))
                    .unwrap_or_else(|| body.clone());
                if status == 503 && error == Some("registry_busy") && retries < BUSY_RETRIES {
                    retries += 1;
                    let wait = retry_after
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map_or(MAX_RETRY_AFTER, Duration::from_secs)
                        .min(MAX_RETRY_AFTER);
                    eprintln!(
                        "{url}: the worker's registry is busy with other changes (HTTP 503 registry_busy); \
                         sending again in {} s (retry {retries} of {BUSY_RETRIES})",
                        wait.as_secs()
                    );
                    sleep(wait);
                    continue;
                }
                if status == 503 && error == Some("registry_busy") {
                    // Not the model's fault: exit 1 like an unreachable worker, not 2.
                    return Err(CliError::other(format!(
                        "{url}: the worker's registry is still busy after {BUSY_RETRIES} retries \
                         (HTTP 503 registry_busy: {message}); other admins are changing it, run \
                         the same command again later (publishing twice is safe)"
                    )));
                }
                let hint = if status == 401 {
                    " (check the token: publishing needs ADMIN_TOKEN)"
                } else {
                    ""
                };
                return Err(CliError::input(format!(
                    "{url}: the worker refused the model with HTTP {status}: {message}{hint}"
                )));
            }
            Err(e) => {
                return Err(CliError::other(format!(
                    "{url}: cannot reach the worker: {e} (is it running? `make run` starts one locally)"
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};

    const BUSY: &str = r#"{"error":"registry_busy","message":"the registry kept changing under this request","problems":[]}"#;

    /// A one-thread HTTP server on loopback answering the i-th request with `answers[i]` (status,
    /// extra headers, body); returns its base URL and the bodies of the requests it received.
    fn fake_worker(
        answers: Vec<(u16, &'static str, &'static str)>,
    ) -> (String, Arc<Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&received);
        std::thread::spawn(move || {
            for (status, headers, body) in answers {
                let (stream, _) = listener.accept().unwrap();
                let mut reader = BufReader::new(stream);
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap();
                    }
                    if line == "\r\n" {
                        break;
                    }
                }
                let mut request = vec![0; length];
                reader.read_exact(&mut request).unwrap();
                seen.lock()
                    .unwrap()
                    .push(String::from_utf8(request).unwrap());
                let answer = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n{headers}\r\n{body}",
                    body.len()
                );
                reader.get_mut().write_all(answer.as_bytes()).unwrap();
            }
        });
        (url, received)
    }

    fn publish(url: &str) -> (Result<ureq::Response, CliError>, Vec<Duration>) {
        let waits = Mutex::new(Vec::new());
        let agent = ureq::AgentBuilder::new().build();
        let result = upload(
            &agent,
            &format!("{url}/v1/models/m-1"),
            "t",
            "{\"a\":1}",
            |d| waits.lock().unwrap().push(d),
        );
        (result, waits.into_inner().unwrap())
    }

    #[test]
    fn a_busy_registry_is_retried_after_retry_after() {
        let (url, received) = fake_worker(vec![
            (503, "retry-after: 1\r\n", BUSY),
            (503, "retry-after: 2\r\n", BUSY),
            (
                201,
                "",
                r#"{"version":"m-1","created":true,"active":false}"#,
            ),
        ]);
        let (result, waits) = publish(&url);
        assert_eq!(result.unwrap().status(), 201);
        assert_eq!(waits, [Duration::from_secs(1), Duration::from_secs(2)]);
        assert_eq!(
            *received.lock().unwrap(),
            ["{\"a\":1}"; 3],
            "the same upload each time"
        );
    }

    #[test]
    fn retries_are_bounded_and_long_waits_capped() {
        let (url, received) = fake_worker(vec![(503, "retry-after: 3600\r\n", BUSY); 6]);
        let (result, waits) = publish(&url);
        let error = result.expect_err("still busy");
        assert_eq!(error.code, 1);
        assert!(
            error.message.contains("still busy after 5 retries"),
            "{}",
            error.message
        );
        assert_eq!(waits, [MAX_RETRY_AFTER; BUSY_RETRIES as usize]);
        assert_eq!(received.lock().unwrap().len(), 1 + BUSY_RETRIES as usize);
    }

    #[test]
    fn other_refusals_are_not_retried() {
        let unavailable = r#"{"error":"unavailable","message":"KV is unreachable","problems":[]}"#;
        let (url, received) = fake_worker(vec![(503, "retry-after: 1\r\n", unavailable)]);
        let (result, waits) = publish(&url);
        let error = result.expect_err("refused");
        assert!(
            error.message.contains("HTTP 503: KV is unreachable"),
            "{}",
            error.message
        );
        assert!(waits.is_empty());
        assert_eq!(received.lock().unwrap().len(), 1);
    }

    #[test]
    fn a_reformatted_file_is_sent_as_ebb_saves_it() {
        let fixture = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fuzz/fixtures/logistic.json"
        );
        let saved = std::fs::read_to_string(fixture).unwrap();
        // serde_json's `Value` writes keys in sorted order: every object reordered.
        let value: Value = serde_json::from_str(&saved).unwrap();
        let reformatted = serde_json::to_string(&value).unwrap();
        assert_ne!(reformatted, saved);
        let dir = std::env::temp_dir().join(format!("ebb-publish-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let model = dir.join("reformatted.json");
        std::fs::write(&model, &reformatted).unwrap();
        let created = r#"{"version":"m-1","created":true,"active":false}"#;
        let (url, received) = fake_worker(vec![(201, "", created)]);
        let result = run(PublishArgs {
            model,
            to: url,
            token: "t".to_string(),
            activate: false,
            json: true,
        });
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(result.is_ok());
        assert_eq!(*received.lock().unwrap(), [saved]);
    }
}
