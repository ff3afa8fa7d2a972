//! The README's route table (section "Edge API") and `worker/openapi.yaml` describe the API the
//! router serves: the same operations (method and path), the same query parameters, and who may
//! call each as `Route::role` decides; the OpenAPI `Error` schema lists exactly the error codes
//! of `ebb_edge::ErrorCode`. The router's side is `ebb_tests::auth_table::ROUTES`,
//! which `edge/tests/auth.rs` proves holds every route variant.
//!
//! Both documents are read as text with just enough parsing for their fixed layout (the table's
//! first two cells; the OpenAPI file's `paths:` block, indented by two spaces a level), so the
//! check needs no YAML or Markdown dependency and fails loudly if that layout changes.

use std::collections::{BTreeMap, BTreeSet};

use ebb_edge::auth::Role;
use ebb_edge::route::Route;
use ebb_edge::ErrorCode;
use ebb_tests::auth_table::ROUTES;

const README: &str = include_str!("../../README.md");
const OPENAPI: &str = include_str!("../../worker/openapi.yaml");

/// `(method, path pattern)`, e.g. `("GET", "/v1/models/{id}")`.
type Operation = (String, String);

/// Who may call an operation, as `worker/openapi.yaml` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Security {
    /// `security: []`: anyone.
    Public,
    /// `security: [{}, { bearer: [] }]`: anyone, or a bearer token for more.
    Optional,
    /// The document's default: a bearer token.
    Bearer,
}

/// An operation as one document describes it.
#[derive(Debug, Default)]
struct Described {
    query: BTreeSet<String>,
    /// README: the words of the token cell (`API`, `admin`, `none`, `metrics`).
    tokens: BTreeSet<String>,
    /// OpenAPI: the operation's `security`.
    security: Option<Security>,
}

/// The README's route table: its first cell lists operations in backticks (`GET /v1/models`,
/// `GET/PUT/DELETE /v1/experiment`, `POST /v1/predict[?explain=K]`), its second the tokens.
fn readme() -> BTreeMap<Operation, Described> {
    let section = README
        .split("\n## ")
        .find(|s| s.starts_with("Edge API"))
        .expect("README has a section `## Edge API`");
    let mut lines = section
        .lines()
        .skip_while(|l| !l.starts_with("| route | token |"));
    assert!(
        lines.next().is_some(),
        "README's Edge API section has a table headed `| route | token | what |`"
    );
    let mut ops = BTreeMap::new();
    for line in lines.skip(1).take_while(|l| l.starts_with('|')) {
        let cells: Vec<&str> = line.split('|').collect();
        let (route_cell, token_cell) = (cells[1], cells[2]);
        let tokens: BTreeSet<String> = token_cell
            .split('/')
            .map(|t| t.trim().to_string())
            .collect();
        // Inside backticks: the odd pieces of a split on them.
        for code in route_cell.split('`').skip(1).step_by(2) {
            let Some((methods, target)) = code.split_once(' ') else {
                // The CORS row: `OPTIONS` on any route's path, not an operation of its own.
                assert_eq!(
                    code, "OPTIONS",
                    "README route table: `{code}` names no path"
                );
                continue;
            };
            let (path, query) = match target.split_once("[?") {
                Some((path, rest)) => (path, rest.trim_end_matches(']')),
                None => (target, ""),
            };
            let query: BTreeSet<String> = query
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| p.split('=').next().unwrap_or_default().to_string())
                .collect();
            for method in methods.split('/') {
                let described = Described {
                    query: query.clone(),
                    tokens: tokens.clone(),
                    security: None,
                };
                let key = (method.to_string(), path.to_string());
                assert!(
                    ops.insert(key, described).is_none(),
                    "README route table lists {method} {path} twice"
                );
            }
        }
    }
    ops
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// `name: VALUE` inside a flow mapping such as `{ name: hours, in: query, ... }`.
fn flow_value<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let start = text.find(&format!("{key}: "))? + key.len() + 2;
    let rest = &text[start..];
    Some(rest[..rest.find([',', '}']).unwrap_or(rest.len())].trim())
}

/// `components.parameters` of the OpenAPI file: key → (name, where).
fn component_parameters() -> BTreeMap<String, (String, String)> {
    let mut params = BTreeMap::new();
    let mut inside = false;
    let mut current: Option<String> = None;
    for line in OPENAPI.lines().skip_while(|l| *l != "components:") {
        match (indent(line), line.trim()) {
            (2, "parameters:") => inside = true,
            (2, _) => inside = false,
            (4, key) if inside => {
                let key = key.trim_end_matches(':').to_string();
                params.insert(key.clone(), (String::new(), String::new()));
                current = Some(key);
            }
            (6, field) if inside => {
                let entry = params
                    .get_mut(current.as_ref().expect("a parameter key"))
                    .unwrap();
                if let Some(name) = field.strip_prefix("name: ") {
                    entry.0 = name.to_string();
                } else if let Some(place) = field.strip_prefix("in: ") {
                    entry.1 = place.to_string();
                }
            }
            _ => {}
        }
    }
    params
}

/// Every operation under `paths:` with its query parameters and `security`.
fn openapi() -> BTreeMap<Operation, Described> {
    const METHODS: [&str; 7] = ["get", "put", "post", "delete", "patch", "head", "options"];
    let components = component_parameters();
    let mut ops: BTreeMap<Operation, Described> = BTreeMap::new();
    let mut path: Option<String> = None;
    let mut op: Option<Operation> = None;
    // A block-style parameter (`- name: X` then `in: query` on the next line).
    let mut pending: Option<String> = None;
    let body = OPENAPI
        .lines()
        .skip_while(|l| *l != "paths:")
        .skip(1)
        .take_while(|l| l.is_empty() || l.starts_with(' '));
    for line in body {
        let text = line.trim();
        match indent(line) {
            2 => {
                path = Some(text.trim_end_matches(':').to_string());
                op = None;
            }
            4 => {
                let key = text.trim_end_matches(':');
                op = METHODS.contains(&key).then(|| {
                    let path = path.clone().expect("a method under a path");
                    (key.to_uppercase(), path)
                });
                if let Some(op) = &op {
                    ops.insert(op.clone(), Described::default());
                }
            }
            n if n >= 6 => {
                let Some(described) = op.as_ref().and_then(|op| ops.get_mut(op)) else {
                    continue;
                };
                if n == 6 {
                    if let Some(value) = text.strip_prefix("security:") {
                        described.security = Some(match value.trim() {
                            "[]" => Security::Public,
                            v if v.contains("{}") => Security::Optional,
                            _ => Security::Bearer,
                        });
                    }
                }
                let item = text.strip_prefix("- ");
                if let Some(reference) =
                    item.and_then(|i| i.strip_prefix("$ref: \"#/components/parameters/"))
                {
                    let key = reference.trim_end_matches('"');
                    let (name, place) = components
                        .get(key)
                        .unwrap_or_else(|| panic!("openapi.yaml: no components.parameters.{key}"));
                    if place == "query" {
                        described.query.insert(name.clone());
                    }
                } else if let Some(flow) = item.filter(|i| i.starts_with('{')) {
                    if flow_value(flow, "in") == Some("query") {
                        let name = flow_value(flow, "name").expect("a parameter has a name");
                        described.query.insert(name.to_string());
                    }
                } else if let Some(name) = item.and_then(|i| i.strip_prefix("name: ")) {
                    pending = Some(name.to_string());
                    continue;
                } else if text == "in: query" {
                    if let Some(name) = pending.take() {
                        described.query.insert(name);
                    }
                }
                pending = None;
            }
            _ => {}
        }
    }
    assert!(
        !ops.is_empty(),
        "openapi.yaml: no operations found under `paths:`"
    );
    for op in ops.values_mut() {
        op.security.get_or_insert(Security::Bearer);
    }
    ops
}

/// Every operation the router serves, under its pattern (`/v1/models/{id}`), with its role.
fn router() -> BTreeMap<Operation, Role> {
    ROUTES
        .iter()
        .map(|row| {
            let route = Route::parse(row.method, row.path)
                .unwrap_or_else(|e| panic!("{} {}: {e:?}", row.method, row.path));
            let key = (row.method.to_string(), route.pattern().to_string());
            (key, route.role())
        })
        .collect()
}

fn names(ops: impl Iterator<Item = Operation>) -> Vec<String> {
    ops.map(|(method, path)| format!("{method} {path}"))
        .collect()
}

/// The operations in `a` missing from `b`.
fn missing<A, B>(a: &BTreeMap<Operation, A>, b: &BTreeMap<Operation, B>) -> Vec<String> {
    names(a.keys().filter(|k| !b.contains_key(*k)).cloned())
}

#[test]
fn readme_openapi_and_router_list_the_same_operations() {
    let (readme, openapi, router) = (readme(), openapi(), router());
    for (what, ops) in [
        ("README's Edge API table", missing(&router, &readme)),
        ("worker/openapi.yaml", missing(&router, &openapi)),
    ] {
        assert!(
            ops.is_empty(),
            "the router serves {ops:?}, missing from {what}"
        );
    }
    for (what, ops) in [
        ("README's Edge API table", missing(&readme, &router)),
        ("worker/openapi.yaml", missing(&openapi, &router)),
    ] {
        assert!(
            ops.is_empty(),
            "{what} lists {ops:?}, which the router does not serve"
        );
    }
}

#[test]
fn readme_names_the_query_parameters_of_openapi() {
    let openapi = openapi();
    for (op, described) in readme() {
        let Some(spec) = openapi.get(&op) else {
            continue; // reported by the test above
        };
        assert_eq!(
            described.query, spec.query,
            "{} {}: query parameters in the README's table vs worker/openapi.yaml",
            op.0, op.1
        );
    }
}

#[test]
fn readme_and_openapi_say_who_may_call_each_route_as_the_router_decides() {
    let router = router();
    for (op, spec) in openapi() {
        let Some(role) = router.get(&op) else {
            continue;
        };
        let expected = match role {
            Role::Public => Security::Public,
            // Public while METRICS_TOKEN is unset; with it, app-info answers its status to anyone.
            Role::Metrics => Security::Optional,
            Role::Api | Role::Admin => Security::Bearer,
        };
        assert_eq!(
            spec.security,
            Some(expected),
            "worker/openapi.yaml: security of {} {} (the router's role: {role:?})",
            op.0,
            op.1
        );
    }
    // Each word of a row's token cell is the role of one of the row's operations, and each
    // operation's role is among the words (`none` for public routes and the metrics routes,
    // which are public while METRICS_TOKEN is unset).
    let mut rows: BTreeMap<BTreeSet<String>, Vec<(Operation, Role)>> = BTreeMap::new();
    for (op, described) in readme() {
        if let Some(role) = router.get(&op) {
            rows.entry(described.tokens).or_default().push((op, *role));
        }
    }
    for (tokens, ops) in rows {
        let words = |role: Role| match role {
            Role::Public => &["none"][..],
            Role::Metrics => &["metrics", "none"][..],
            Role::Api => &["API"][..],
            Role::Admin => &["admin"][..],
        };
        for (op, role) in &ops {
            assert!(
                words(*role).iter().any(|w| tokens.contains(*w)),
                "README: {} {} is documented for {tokens:?}, the router's role is {role:?}",
                op.0,
                op.1
            );
        }
        for token in &tokens {
            assert!(
                ops.iter()
                    .any(|(_, role)| words(*role).contains(&token.as_str())),
                "README: the token `{token}` in the row of {:?} is no route's role",
                names(ops.iter().map(|(op, _)| op.clone()))
            );
        }
    }
}

/// The `enum` of `error` in `components.schemas.Error`, as written in the OpenAPI file
/// (`error: { enum: [a, b, ...] }`).
fn openapi_error_codes() -> BTreeSet<String> {
    let mut lines = OPENAPI
        .lines()
        .skip_while(|l| *l != "components:")
        .skip_while(|l| l.trim() != "Error:");
    let error = lines
        .next()
        .map(indent)
        .expect("openapi.yaml: components.schemas has `Error:`");
    let list = lines
        .take_while(|l| l.trim().is_empty() || indent(l) > error)
        .find_map(|l| l.trim().strip_prefix("error: { enum: ["))
        .expect("openapi.yaml: the Error schema has `error: { enum: [...] }` on one line");
    list.trim_end_matches("] }")
        .split(',')
        .map(|c| c.trim().to_string())
        .collect()
}

#[test]
fn openapi_lists_every_error_code_the_edge_answers_and_no_other() {
    let enum_codes: BTreeSet<String> = ErrorCode::ALL
        .iter()
        .map(|c| c.as_str().to_string())
        .collect();
    let documented = openapi_error_codes();
    let undocumented: Vec<_> = enum_codes.difference(&documented).collect();
    let unknown: Vec<_> = documented.difference(&enum_codes).collect();
    assert!(
        undocumented.is_empty() && unknown.is_empty(),
        "worker/openapi.yaml's Error.error enum misses {undocumented:?} and lists {unknown:?}, \
         which ebb_edge::ErrorCode does not have"
    );
}
