//! A/B tests: traffic split between two model versions by a stable hash of the customer id, so
//! the same customer always lands in the same arm for the life of the experiment.

use serde::{Deserialize, Serialize};

use crate::error::{ApiError, Problem};

/// Which side of an experiment served a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arm {
    /// The incumbent model.
    Control,
    /// The challenger.
    Treatment,
}

impl Arm {
    /// `control` or `treatment`.
    pub fn name(self) -> &'static str {
        match self {
            Arm::Control => "control",
            Arm::Treatment => "treatment",
        }
    }
}

/// A running experiment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Experiment {
    /// Version serving the control arm.
    pub control: String,
    /// Version serving the treatment arm.
    pub treatment: String,
    /// Share of customers in the treatment arm, in (0, 1).
    pub treatment_share: f64,
    /// Mixed into the hash so a new experiment reshuffles customers.
    pub salt: String,
    /// When it started (ms since the Unix epoch).
    pub started_at_ms: u64,
}

ebb_core::map_struct!(Experiment {
    control,
    treatment,
    treatment_share,
    salt,
    started_at_ms,
});

/// The body of `PUT /v1/experiment`.
#[derive(Debug)]
pub struct ExperimentRequest {
    /// Version for the control arm.
    pub control: String,
    /// Version for the treatment arm.
    pub treatment: String,
    /// Share of customers for the treatment arm (default 0.5).
    pub treatment_share: Option<f64>,
    /// Hash salt (default: derived from the two versions and the start time).
    pub salt: Option<String>,
}

ebb_core::map_struct!(
    ExperimentRequest,
    deny_unknown_fields {
        control,
        treatment,
        treatment_share,
        salt,
    }
);

impl ExperimentRequest {
    /// Parses and checks the body; `known` says whether a version is registered.
    pub fn parse(
        body: &serde_json::Value,
        known: impl Fn(&str) -> bool,
        now_ms: u64,
    ) -> Result<Experiment, ApiError> {
        let request: ExperimentRequest = serde_json::from_value(body.clone()).map_err(|e| {
            ApiError::bad_request(format!(
                "expected {{\"control\": VERSION, \"treatment\": VERSION, \"treatment_share\": 0.5}}: {e}"
            ))
        })?;
        let mut problems = Vec::new();
        for (field, version) in [
            ("control", &request.control),
            ("treatment", &request.treatment),
        ] {
            if !known(version) {
                problems.push(Problem::new(
                    field,
                    format!("model `{version}` is not registered: upload it with PUT /v1/models/{version}"),
                ));
            }
        }
        if request.control == request.treatment {
            problems.push(Problem::new("treatment", "must differ from control"));
        }
        let share = request.treatment_share.unwrap_or(0.5);
        if !(share > 0.0 && share < 1.0) {
            problems.push(Problem::new(
                "treatment_share",
                format!("{share} is not a share strictly between 0 and 1"),
            ));
        }
        if !problems.is_empty() {
            return Err(ApiError::invalid_fields(problems));
        }
        let salt = request
            .salt
            .unwrap_or_else(|| format!("{}:{}:{now_ms}", request.control, request.treatment));
        Ok(Experiment {
            control: request.control,
            treatment: request.treatment,
            treatment_share: share,
            salt,
            started_at_ms: now_ms,
        })
    }
}

impl Experiment {
    /// The arm of `customer_id` (control when the request names no customer, so anonymous
    /// traffic never lands in an arm it cannot be attributed to).
    pub fn arm_for(&self, customer_id: Option<&str>) -> Arm {
        match customer_id {
            Some(id) if bucket(&self.salt, id) < self.treatment_share => Arm::Treatment,
            _ => Arm::Control,
        }
    }

    /// The version serving `arm`.
    pub fn version(&self, arm: Arm) -> &str {
        match arm {
            Arm::Control => &self.control,
            Arm::Treatment => &self.treatment,
        }
    }
}

/// A uniform number in [0, 1) fixed by `salt` and `id`: FNV-1a over the bytes, then a
/// SplitMix64 finaliser so similar ids (C1, C2, ...) spread evenly.
pub fn bucket(salt: &str, id: &str) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in salt.as_bytes().iter().chain(&[0xff]).chain(id.as_bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^= h >> 31;
    (h >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn experiment(share: f64) -> Experiment {
        Experiment {
            control: "m-a".into(),
            treatment: "m-b".into(),
            treatment_share: share,
            salt: "s".into(),
            started_at_ms: 0,
        }
    }

    #[test]
    fn arms_are_sticky_and_split_as_asked() {
        let e = experiment(0.3);
        let ids: Vec<String> = (0..20_000).map(|i| format!("C{i}")).collect();
        let treated = ids
            .iter()
            .filter(|id| e.arm_for(Some(id)) == Arm::Treatment)
            .count();
        let share = treated as f64 / ids.len() as f64;
        assert!((share - 0.3).abs() < 0.015, "treatment share {share}");
        for id in &ids[..100] {
            assert_eq!(e.arm_for(Some(id)), e.arm_for(Some(id)));
        }
        assert_eq!(e.arm_for(None), Arm::Control);
    }

    #[test]
    fn a_new_salt_reshuffles() {
        let a = experiment(0.5);
        let b = Experiment {
            salt: "other".into(),
            ..a.clone()
        };
        let differ = (0..1000)
            .filter(|i| {
                let id = format!("C{i}");
                a.arm_for(Some(&id)) != b.arm_for(Some(&id))
            })
            .count();
        assert!((350..650).contains(&differ), "{differ}");
    }

    #[test]
    fn bucket_is_pinned() {
        // The split must not change between releases: customers would switch arms mid-test.
        assert_eq!(bucket("s", "C1").to_bits(), bucket("s", "C1").to_bits());
        assert!((0.0..1.0).contains(&bucket("", "")));
        assert_eq!(format!("{:.6}", bucket("salt", "customer-42")), "0.588838");
    }

    #[test]
    fn requests_are_checked() {
        let known = |v: &str| v == "m-a" || v == "m-b";
        let e = ExperimentRequest::parse(&json!({"control": "m-a", "treatment": "m-b"}), known, 7)
            .unwrap();
        assert_eq!(e.treatment_share, 0.5);
        assert_eq!(e.started_at_ms, 7);
        let err = ExperimentRequest::parse(
            &json!({"control": "m-a", "treatment": "m-x", "treatment_share": 1.5}),
            known,
            7,
        )
        .unwrap_err();
        let fields: Vec<_> = err.problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["treatment", "treatment_share"]);
        let err = ExperimentRequest::parse(&json!({"control": "m-a", "treatmnt": "m-b"}), known, 7)
            .unwrap_err();
        assert_eq!(err.status, 400);
        assert!(
            err.message.ends_with(": unknown field `treatmnt`, expected one of `control`, `treatment`, `treatment_share`, `salt`"),
            "{err}"
        );
        let err = ExperimentRequest::parse(&json!({"control": "m-a"}), known, 7).unwrap_err();
        assert!(
            err.message.ends_with(": missing field `treatment`"),
            "{err}"
        );
        let err =
            ExperimentRequest::parse(&json!(["m-a", "m-b", 0.5, "salt"]), known, 7).unwrap_err();
        assert!(
            err.message
                .ends_with(": invalid type: sequence, expected struct ExperimentRequest"),
            "{err}"
        );
    }
}
