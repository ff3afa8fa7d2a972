//! The auth rules over every route and every kind of caller (the table in
//! `ebb_tests::auth_table`, which the worker's end-to-end test also walks over HTTP), with
//! `METRICS_TOKEN` set and unset.

use ebb_edge::auth::Tokens;
use ebb_edge::route::{Access, Route};
use ebb_tests::auth_table::{
    Caller, Outcome, ADMIN_TOKEN, API_TOKEN, CALLERS, METRICS_TOKEN, ROUTES,
};

fn tokens(metrics: bool) -> Tokens {
    Tokens {
        api: Some(API_TOKEN.into()),
        admin: Some(ADMIN_TOKEN.into()),
        metrics: metrics.then(|| METRICS_TOKEN.into()),
    }
}

/// A number per route variant: the match has no wildcard, so a new route does not compile
/// until it is numbered here, and then the coverage check below wants a row for it.
fn variant(route: &Route) -> usize {
    match route {
        Route::Health => 0,
        Route::AppInfo => 1,
        Route::Metrics => 2,
        Route::OpenApi => 3,
        Route::Predict => 4,
        Route::PredictBatch => 5,
        Route::ListModels => 6,
        Route::GetModel(_) => 7,
        Route::PutModel(_) => 8,
        Route::Activate(_) => 9,
        Route::Rollback => 10,
        Route::GetExperiment => 11,
        Route::PutExperiment => 12,
        Route::EndExperiment => 13,
        Route::Labels => 14,
        Route::Monitoring => 15,
        Route::DeleteCustomer(_) => 16,
    }
}
const VARIANTS: usize = 17;

#[test]
fn the_table_covers_every_route_once() {
    let mut seen = [0; VARIANTS];
    for row in ROUTES {
        let route = Route::parse(row.method, row.path)
            .unwrap_or_else(|e| panic!("{} {}: {e}", row.method, row.path));
        seen[variant(&route)] += 1;
    }
    assert_eq!(seen, [1; VARIANTS], "rows per route variant");
}

#[test]
fn every_route_and_caller_gets_the_tables_outcome() {
    for metrics in [true, false] {
        let tokens = tokens(metrics);
        for row in ROUTES {
            let route = Route::parse(row.method, row.path).unwrap();
            let expected = if metrics {
                row.with_metrics_token
            } else {
                row.without_metrics_token
            };
            for (caller, expected) in CALLERS.into_iter().zip(expected) {
                let header = caller.token().map(|t| format!("Bearer {t}"));
                let got = match route.authorize(header.as_deref(), &tokens) {
                    Ok(Access::Full) => Outcome::Full,
                    Ok(Access::StatusOnly) => Outcome::StatusOnly,
                    Err(e) => {
                        assert_eq!(e.status, 401, "{e}");
                        for secret in [API_TOKEN, ADMIN_TOKEN, METRICS_TOKEN] {
                            assert!(!e.to_json().contains(secret), "{e}");
                        }
                        Outcome::Refused
                    }
                };
                assert_eq!(
                    got, expected,
                    "{} {} by {caller:?} (METRICS_TOKEN set: {metrics})",
                    row.method, row.path
                );
            }
        }
    }
}

#[test]
fn a_refused_known_token_is_told_which_token_the_route_needs() {
    let tokens = tokens(true);
    let message = |method: &str, path: &str, caller: Caller| {
        let header = format!("Bearer {}", caller.token().unwrap());
        Route::parse(method, path)
            .unwrap()
            .authorize(Some(&header), &tokens)
            .unwrap_err()
            .message
    };
    assert!(message("POST", "/v1/rollback", Caller::Api).contains("admin token, not the API"));
    assert!(message("POST", "/v1/predict", Caller::Metrics).contains("needs the API token"));
    assert!(message("GET", "/metrics", Caller::Wrong).contains("not valid"));
}
