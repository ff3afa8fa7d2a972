//! Cross-origin access for browser pages on other origins (CORS), from the `ALLOWED_ORIGINS`
//! variable: a comma-separated list of exact origins such as `https://dash.example.com`.
//!
//! Empty (the default) means same-origin only: responses carry no CORS header at all, exactly
//! as before the variable existed, and the dashboard served from `static/` keeps working because
//! browsers do not apply CORS to their own origin. With origins listed, a request whose `Origin`
//! is one of them gets `Access-Control-Allow-Origin: <that origin>` on every answer, errors
//! included, so the page can read why a call failed; every other origin gets no allow header,
//! and its preflight is refused with 403. Tokens travel in `Authorization`, not cookies, so no
//! credentials header is needed.

use core::fmt;

use crate::route::methods_of;
use crate::ApiError;

/// Request headers a page may send: the bearer token and the JSON body's type.
pub const ALLOWED_HEADERS: &str = "authorization, content-type";

/// How long a browser may reuse a preflight answer, in seconds (Chromium caps it at 2 hours).
pub const MAX_AGE_SECONDS: u32 = 7200;

/// A response header: name and value.
pub type Header = (&'static str, String);

/// The origins allowed to call the API from a browser, normalised (lower case, no default
/// port) the way browsers send `Origin`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedOrigins {
    origins: Vec<String>,
}

/// Why an `ALLOWED_ORIGINS` entry is not an origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginError {
    /// `*` or a pattern: every origin would be trusted with the tokens a page holds.
    Wildcard(String),
    /// `null`: sent by every sandboxed frame and local file, so it identifies no one.
    Null,
    /// No `scheme://`.
    NoScheme(String),
    /// A scheme other than http or https.
    Scheme(String),
    /// A path, query, fragment or trailing slash; `origin` is what to write instead.
    Path { entry: String, origin: String },
    /// Credentials, an empty or invalid host, or an invalid port.
    Host(String),
}

impl fmt::Display for OriginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ALLOWED_ORIGINS: ")?;
        match self {
            OriginError::Wildcard(e) => write!(
                f,
                "`{e}`: wildcards are not accepted; list each origin exactly, e.g. `https://dash.example.com`"
            ),
            OriginError::Null => write!(
                f,
                "`null` is not accepted: every sandboxed frame and local file sends it"
            ),
            OriginError::NoScheme(e) => write!(f, "`{e}` has no scheme: write `https://{e}`"),
            OriginError::Scheme(e) => {
                write!(f, "`{e}`: only http:// and https:// origins are accepted")
            }
            OriginError::Path { entry, origin } => write!(
                f,
                "`{entry}`: an origin has no path, query or trailing slash; write `{origin}`"
            ),
            OriginError::Host(e) => write!(
                f,
                "`{e}`: write scheme://host or scheme://host:port, without user or password"
            ),
        }
    }
}

impl std::error::Error for OriginError {}

impl AllowedOrigins {
    /// Reads the comma-separated list; blank entries are skipped, any invalid one is an error
    /// (a typo must not silently leave a dashboard locked out or another origin let in).
    pub fn parse(list: &str) -> Result<AllowedOrigins, OriginError> {
        let origins = list
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(normalise)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(AllowedOrigins { origins })
    }

    /// Whether `origin` (a request's `Origin` header, as the browser sent it) is listed.
    pub fn allows(&self, origin: &str) -> bool {
        self.origins.iter().any(|o| o == origin)
    }

    /// The CORS headers of every answer to a request with this `Origin`.
    pub fn headers(&self, origin: Option<&str>) -> Vec<Header> {
        if self.origins.is_empty() {
            return Vec::new();
        }
        // With origins listed, the answer depends on `Origin`: caches must keep them apart even
        // for requests from origins that get no allow header.
        let mut headers = vec![("vary", "Origin".to_string())];
        if let Some(origin) = origin.filter(|o| self.allows(o)) {
            headers.push(("access-control-allow-origin", origin.to_string()));
        }
        headers
    }

    /// The answer to `OPTIONS path`: a 204's headers beyond [`AllowedOrigins::headers`], or
    /// the error (404 for an unknown path, 403 for an origin not listed).
    pub fn preflight(&self, origin: Option<&str>, path: &str) -> Result<Vec<Header>, ApiError> {
        let methods = methods_of(path).ok_or_else(|| {
            ApiError::not_found(format!(
                "no route OPTIONS {path}: see /v1/openapi.yaml for the API"
            ))
        })?;
        let Some(origin) = origin else {
            // Not a browser's preflight: say what the path accepts.
            return Ok(vec![("allow", format!("{methods}, OPTIONS"))]);
        };
        if !self.allows(origin) {
            return Err(ApiError::forbidden(if self.origins.is_empty() {
                format!(
                    "the origin `{origin}` may not call this API from a browser: \
                     cross-origin calls are off (ALLOWED_ORIGINS is empty)"
                )
            } else {
                format!(
                    "the origin `{origin}` may not call this API from a browser: \
                     it is not in ALLOWED_ORIGINS"
                )
            }));
        }
        Ok(vec![
            ("access-control-allow-methods", methods.to_string()),
            ("access-control-allow-headers", ALLOWED_HEADERS.to_string()),
            ("access-control-max-age", MAX_AGE_SECONDS.to_string()),
        ])
    }
}

/// One entry as browsers serialise an origin: `scheme://host[:port]`, lower case, without the
/// scheme's default port.
fn normalise(entry: &str) -> Result<String, OriginError> {
    if entry.contains('*') {
        return Err(OriginError::Wildcard(entry.to_string()));
    }
    if entry.eq_ignore_ascii_case("null") {
        return Err(OriginError::Null);
    }
    let (scheme, rest) = entry
        .split_once("://")
        .ok_or_else(|| OriginError::NoScheme(entry.to_string()))?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => "443",
        "http" => "80",
        _ => return Err(OriginError::Scheme(entry.to_string())),
    };
    if let Some(cut) = rest.find(['/', '?', '#']) {
        if let Ok(origin) = normalise(&entry[..entry.len() - rest.len() + cut]) {
            return Err(OriginError::Path {
                entry: entry.to_string(),
                origin,
            });
        }
        return Err(OriginError::Host(entry.to_string()));
    }
    let bad_host = || OriginError::Host(entry.to_string());
    // A bracketed IPv6 literal keeps its colons; otherwise the last colon starts the port.
    let (host, port) = match rest.strip_prefix('[') {
        Some(v6) => {
            let (address, after) = v6.split_once(']').ok_or_else(bad_host)?;
            if address.is_empty() || !address.chars().all(|c| c.is_ascii_hexdigit() || c == ':') {
                return Err(bad_host());
            }
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or_else(bad_host)?),
            };
            (format!("[{}]", address.to_ascii_lowercase()), port)
        }
        None => {
            let (host, port) = match rest.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (rest, None),
            };
            let label_ok = |l: &str| {
                !l.is_empty()
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            };
            if !host.split('.').all(label_ok) {
                return Err(bad_host());
            }
            (host.to_ascii_lowercase(), port)
        }
    };
    let port = match port {
        None => String::new(),
        Some(p) => {
            let valid = !p.is_empty()
                && p.len() <= 5
                && p.bytes().all(|b| b.is_ascii_digit())
                && p.parse::<u32>().is_ok_and(|n| (1..=65_535).contains(&n));
            if !valid {
                return Err(bad_host());
            }
            let p = p.trim_start_matches('0');
            if p == default_port {
                String::new()
            } else {
                format!(":{p}")
            }
        }
    };
    Ok(format!("{scheme}://{host}{port}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    const DASH: &str = "https://dash.example.com";
    const LOCAL: &str = "http://127.0.0.1:3000";

    fn listed() -> AllowedOrigins {
        AllowedOrigins::parse(&format!(" {DASH} ,{LOCAL},")).unwrap()
    }

    fn header<'a>(headers: &'a [Header], name: &str) -> Option<&'a str> {
        headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn entries_are_normalised_as_browsers_send_origin() {
        for (entry, origin) in [
            ("https://dash.example.com", "https://dash.example.com"),
            ("HTTPS://Dash.Example.COM", "https://dash.example.com"),
            ("https://dash.example.com:443", "https://dash.example.com"),
            ("http://dash.example.com:80", "http://dash.example.com"),
            ("http://dash.example.com:443", "http://dash.example.com:443"),
            (
                "https://dash.example.com:8443",
                "https://dash.example.com:8443",
            ),
            ("http://localhost:08080", "http://localhost:8080"),
            ("http://[::1]:3000", "http://[::1]:3000"),
            ("http://[FE80::1]", "http://[fe80::1]"),
        ] {
            assert_eq!(
                AllowedOrigins::parse(entry).unwrap().origins,
                vec![origin.to_string()],
                "{entry}"
            );
        }
        assert_eq!(
            AllowedOrigins::parse("").unwrap(),
            AllowedOrigins::default()
        );
        assert_eq!(AllowedOrigins::parse(" , ").unwrap().origins.len(), 0);
        assert_eq!(listed().origins, vec![DASH, LOCAL]);
    }

    #[test]
    fn entries_that_are_not_origins_are_refused_with_the_fix() {
        for (list, expected) in [
            ("*", OriginError::Wildcard("*".into())),
            (
                "https://*.example.com",
                OriginError::Wildcard("https://*.example.com".into()),
            ),
            ("null", OriginError::Null),
            (
                "dash.example.com",
                OriginError::NoScheme("dash.example.com".into()),
            ),
            (
                "ftp://dash.example.com",
                OriginError::Scheme("ftp://dash.example.com".into()),
            ),
            (
                "https://dash.example.com/",
                OriginError::Path {
                    entry: "https://dash.example.com/".into(),
                    origin: DASH.into(),
                },
            ),
            (
                "https://Dash.example.com:443/app?x#y",
                OriginError::Path {
                    entry: "https://Dash.example.com:443/app?x#y".into(),
                    origin: DASH.into(),
                },
            ),
            ("https://", OriginError::Host("https://".into())),
            ("https:///x", OriginError::Host("https:///x".into())),
            (
                "https://user:pw@dash.example.com",
                OriginError::Host("https://user:pw@dash.example.com".into()),
            ),
            (
                "https://dash..example.com",
                OriginError::Host("https://dash..example.com".into()),
            ),
            (
                "https://dash.example.com:",
                OriginError::Host("https://dash.example.com:".into()),
            ),
            (
                "https://dash.example.com:70000",
                OriginError::Host("https://dash.example.com:70000".into()),
            ),
            ("http://[::1", OriginError::Host("http://[::1".into())),
            // One bad entry spoils the list, wherever it is.
            (
                "https://ok.example.com, https://bad.example.com/",
                OriginError::Path {
                    entry: "https://bad.example.com/".into(),
                    origin: "https://bad.example.com".into(),
                },
            ),
        ] {
            let e = AllowedOrigins::parse(list).unwrap_err();
            assert_eq!(e, expected, "{list}");
            assert!(e.to_string().starts_with("ALLOWED_ORIGINS: "), "{e}");
        }
        let e = AllowedOrigins::parse("https://dash.example.com/").unwrap_err();
        assert!(
            e.to_string().contains("write `https://dash.example.com`"),
            "{e}"
        );
        let e = AllowedOrigins::parse("dash.example.com").unwrap_err();
        assert!(
            e.to_string().contains("write `https://dash.example.com`"),
            "{e}"
        );
    }

    /// One row: configured origins, the request's `Origin`, whether it is an `OPTIONS`
    /// preflight, its path, then the expected status (204 for an accepted preflight, 200 for
    /// an ordinary request the CORS layer leaves alone) and allow-origin header.
    type Case = (
        &'static str,
        Option<&'static str>,
        bool,
        &'static str,
        u16,
        Option<&'static str>,
    );

    const CASES: &[Case] = &[
        // Same-origin only (the default): no CORS header on anything.
        ("", None, false, "/v1/predict", 200, None),
        ("", Some(DASH), false, "/v1/predict", 200, None),
        ("", Some(DASH), true, "/v1/predict", 403, None),
        ("", None, true, "/v1/predict", 204, None),
        // Listed origins: allowed on ordinary requests and preflights.
        (
            "https://dash.example.com,http://127.0.0.1:3000",
            Some(DASH),
            false,
            "/v1/predict",
            200,
            Some(DASH),
        ),
        (
            "https://dash.example.com,http://127.0.0.1:3000",
            Some(LOCAL),
            true,
            "/v1/models/m-1",
            204,
            Some(LOCAL),
        ),
        (
            "https://dash.example.com,http://127.0.0.1:3000",
            Some(DASH),
            true,
            "/metrics",
            204,
            Some(DASH),
        ),
        // Unlisted origins, near misses included: no allow header, preflight refused.
        (
            "https://dash.example.com",
            Some("https://evil.example.com"),
            false,
            "/v1/predict",
            200,
            None,
        ),
        (
            "https://dash.example.com",
            Some("http://dash.example.com"),
            true,
            "/v1/predict",
            403,
            None,
        ),
        (
            "https://dash.example.com",
            Some("https://dash.example.com:8443"),
            true,
            "/v1/predict",
            403,
            None,
        ),
        (
            "https://dash.example.com",
            Some("https://dash.example.com.evil.net"),
            true,
            "/v1/predict",
            403,
            None,
        ),
        (
            "https://dash.example.com",
            Some("null"),
            true,
            "/v1/predict",
            403,
            None,
        ),
        // Unknown paths are 404 even for a listed origin, which can still read that answer.
        (
            "https://dash.example.com",
            Some(DASH),
            true,
            "/v1/nothing",
            404,
            Some(DASH),
        ),
        // No Origin: not a browser's cross-origin call; OPTIONS says what the path accepts.
        (
            "https://dash.example.com",
            None,
            true,
            "/v1/experiment",
            204,
            None,
        ),
        (
            "https://dash.example.com",
            None,
            false,
            "/v1/predict",
            200,
            None,
        ),
    ];

    #[test]
    fn every_answer_follows_the_table() {
        for &(list, origin, preflight, path, status, allow_origin) in CASES {
            let cors = AllowedOrigins::parse(list).unwrap();
            let case = format!("{list:?} {origin:?} preflight={preflight} {path}");
            let mut headers = cors.headers(origin);
            let got = if preflight {
                match cors.preflight(origin, path) {
                    Ok(extra) => {
                        headers.extend(extra);
                        204
                    }
                    Err(e) => e.status,
                }
            } else {
                200
            };
            assert_eq!(got, status, "{case}");
            assert_eq!(
                header(&headers, "access-control-allow-origin"),
                allow_origin,
                "{case}"
            );
            // Any listed origin makes answers depend on Origin; none keeps them as they were.
            let vary = header(&headers, "vary");
            assert_eq!(vary, (!list.is_empty()).then_some("Origin"), "{case}");
            if list.is_empty() {
                assert!(headers.iter().all(|(n, _)| *n == "allow"), "{case}");
            }
            let preflight_allowed = preflight && status == 204 && origin.is_some();
            assert_eq!(
                header(&headers, "access-control-allow-headers").is_some(),
                preflight_allowed,
                "{case}"
            );
        }
    }

    #[test]
    fn preflights_name_the_routes_methods_and_how_long_to_keep_them() {
        let cors = listed();
        for (path, methods) in [
            ("/v1/predict", "POST"),
            ("/v1/predict/batch/", "POST"),
            ("/v1/models", "GET"),
            ("/v1/models/m-1", "GET, PUT"),
            ("/v1/experiment", "GET, PUT, DELETE"),
            ("/v1/customers/C%2042", "DELETE"),
            ("/v1/app-info", "GET"),
        ] {
            let headers = cors.preflight(Some(DASH), path).unwrap();
            assert_eq!(
                header(&headers, "access-control-allow-methods"),
                Some(methods),
                "{path}"
            );
            assert_eq!(
                header(&headers, "access-control-allow-headers"),
                Some("authorization, content-type")
            );
            assert_eq!(header(&headers, "access-control-max-age"), Some("7200"));
        }
        let plain = cors.preflight(None, "/v1/models/m-1").unwrap();
        assert_eq!(plain, vec![("allow", "GET, PUT, OPTIONS".to_string())]);
    }

    #[test]
    fn refusals_say_which_origin_and_what_to_change() {
        let e = listed()
            .preflight(Some("https://evil.example.com"), "/v1/predict")
            .unwrap_err();
        assert_eq!((e.status, e.error), (403, ErrorCode::Forbidden));
        assert!(e.message.contains("`https://evil.example.com`"), "{e}");
        assert!(e.message.contains("not in ALLOWED_ORIGINS"), "{e}");
        let e = AllowedOrigins::default()
            .preflight(Some(DASH), "/v1/predict")
            .unwrap_err();
        assert!(e.message.contains("ALLOWED_ORIGINS is empty"), "{e}");
    }
}
