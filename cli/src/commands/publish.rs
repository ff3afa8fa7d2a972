//! `ebb publish`: uploads a model artifact to a running edge worker (local `wrangler dev` or a
//! deployed one) and optionally activates it. The artifact is checked locally first, so a
//! corrupt file fails here with the same message the worker would give.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use serde_json::Value;

use crate::io::{print_json, read_artifact};
use crate::{CliError, CliResult};

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
    let text = std::fs::read_to_string(&args.model)
        .map_err(|e| CliError::input(format!("{}: cannot read: {e}", args.model.display())))?;
    let base = args.to.trim_end_matches('/');
    let mut url = format!("{base}/v1/models/{}", artifact.model_id);
    if args.activate {
        url.push_str("?activate=true");
    }
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(120))
        .build();
    let answer = agent
        .put(&url)
        .set("authorization", &format!("Bearer {}", args.token))
        .set("content-type", "application/json")
        .send_string(&text);
    let response = match answer {
        Ok(response) => response,
        Err(ureq::Error::Status(status, response)) => {
            let body = response.into_string().unwrap_or_default();
            let message = serde_json::from_str::<Value>(&body)
                .ok()
                .and_then(|v| v["message"].as_str().map(String::from))
                .unwrap_or(body);
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
    };
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
