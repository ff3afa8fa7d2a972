//! Prometheus metrics of one worker isolate: requests by route and status, a latency
//! histogram, predictions by model version, errors by code and registry writes that lost a
//! race. Isolates do not share memory,
//! so each reports its own counts (Prometheus sums them when scraped through a collector).

use std::collections::BTreeMap;
use std::fmt::Write;

/// Upper bounds of the latency buckets, in seconds.
const LATENCY_BUCKETS: [f64; 12] = [
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; LATENCY_BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Counters of one isolate.
#[derive(Debug, Default, Clone)]
pub struct Metrics {
    requests: BTreeMap<(String, u16), u64>,
    latency: BTreeMap<String, Histogram>,
    predictions: BTreeMap<String, u64>,
    errors: BTreeMap<String, u64>,
    registry_conflicts: u64,
}

impl Metrics {
    /// Counts a finished request. `route` is the route's pattern (e.g. `/v1/models/{id}`), so
    /// ids in paths do not explode the label set.
    pub fn observe_request(&mut self, route: &str, status: u16, seconds: f64) {
        *self
            .requests
            .entry((route.to_string(), status))
            .or_default() += 1;
        let h = self.latency.entry(route.to_string()).or_default();
        for (count, &bound) in h.counts.iter_mut().zip(&LATENCY_BUCKETS) {
            if seconds <= bound {
                *count += 1;
            }
        }
        h.count += 1;
        h.sum += seconds.max(0.0);
    }

    /// Counts `n` predictions served by `version`.
    pub fn observe_predictions(&mut self, version: &str, n: u64) {
        *self.predictions.entry(version.to_string()).or_default() += n;
    }

    /// Counts an error answer by its code.
    pub fn observe_error(&mut self, code: &str) {
        *self.errors.entry(code.to_string()).or_default() += 1;
    }

    /// Counts a registry write that lost the compare-and-swap to another change (and was
    /// retried or given up): how contended admin changes are.
    pub fn observe_registry_conflict(&mut self) {
        self.registry_conflicts += 1;
    }

    /// The text exposition format. `wasm_memory_bytes` is the isolate's WebAssembly linear
    /// memory at the scrape (the runtime's to read; `None` outside one): it only ever grows, so
    /// its high-water mark is what the isolate's Rust heap has needed.
    pub fn render(&self, wasm_memory_bytes: Option<u64>) -> String {
        let mut out = String::new();
        if let Some(bytes) = wasm_memory_bytes {
            let _ = writeln!(
                out,
                "# HELP ebb_wasm_memory_bytes Size of this isolate's WebAssembly linear memory (grows, never shrinks)."
            );
            let _ = writeln!(out, "# TYPE ebb_wasm_memory_bytes gauge");
            let _ = writeln!(out, "ebb_wasm_memory_bytes {bytes}");
        }
        let _ = writeln!(
            out,
            "# HELP ebb_http_requests_total HTTP requests by route and status."
        );
        let _ = writeln!(out, "# TYPE ebb_http_requests_total counter");
        for ((route, status), n) in &self.requests {
            let _ = writeln!(
                out,
                "ebb_http_requests_total{{route=\"{}\",status=\"{status}\"}} {n}",
                escape(route)
            );
        }
        let _ = writeln!(
            out,
            "# HELP ebb_http_request_duration_seconds Request latency as seen by the worker (its clock advances only across I/O)."
        );
        let _ = writeln!(out, "# TYPE ebb_http_request_duration_seconds histogram");
        for (route, h) in &self.latency {
            let route = escape(route);
            for (count, bound) in h.counts.iter().zip(&LATENCY_BUCKETS) {
                let _ = writeln!(
                    out,
                    "ebb_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "ebb_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "ebb_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "ebb_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP ebb_predictions_total Customers scored by model version."
        );
        let _ = writeln!(out, "# TYPE ebb_predictions_total counter");
        for (version, n) in &self.predictions {
            let _ = writeln!(
                out,
                "ebb_predictions_total{{model_version=\"{}\"}} {n}",
                escape(version)
            );
        }
        let _ = writeln!(out, "# HELP ebb_errors_total Error answers by error code.");
        let _ = writeln!(out, "# TYPE ebb_errors_total counter");
        for (code, n) in &self.errors {
            let _ = writeln!(out, "ebb_errors_total{{code=\"{}\"}} {n}", escape(code));
        }
        let _ = writeln!(
            out,
            "# HELP ebb_registry_write_conflicts_total Registry writes that lost a race to another change and were redone (or refused as registry_busy)."
        );
        let _ = writeln!(out, "# TYPE ebb_registry_write_conflicts_total counter");
        let _ = writeln!(
            out,
            "ebb_registry_write_conflicts_total {}",
            self.registry_conflicts
        );
        out
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_buckets() {
        let mut m = Metrics::default();
        m.observe_request("/v1/predict", 200, 0.0003);
        m.observe_request("/v1/predict", 200, 0.02);
        m.observe_request("/v1/predict", 400, 0.0001);
        m.observe_predictions("m-abc", 2);
        m.observe_error("invalid_fields");
        m.observe_registry_conflict();
        let text = m.render(Some(1_114_112));
        assert!(text.contains("ebb_http_requests_total{route=\"/v1/predict\",status=\"200\"} 2"));
        assert!(text.contains("ebb_http_requests_total{route=\"/v1/predict\",status=\"400\"} 1"));
        assert!(text.contains(
            "ebb_http_request_duration_seconds_bucket{route=\"/v1/predict\",le=\"0.0005\"} 2"
        ));
        assert!(text.contains(
            "ebb_http_request_duration_seconds_bucket{route=\"/v1/predict\",le=\"+Inf\"} 3"
        ));
        assert!(text.contains("ebb_predictions_total{model_version=\"m-abc\"} 2"));
        assert!(text.contains("ebb_errors_total{code=\"invalid_fields\"} 1"));
        assert!(text.contains("ebb_registry_write_conflicts_total 1\n"));
        assert!(
            text.contains("# TYPE ebb_wasm_memory_bytes gauge\nebb_wasm_memory_bytes 1114112\n")
        );
        assert!(!m.render(None).contains("ebb_wasm_memory_bytes"));
        assert!(text
            .lines()
            .all(|l| l.starts_with('#') || l.rsplit(' ').next().unwrap().parse::<f64>().is_ok()));
    }

    #[test]
    fn labels_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
