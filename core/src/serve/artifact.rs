//! The model artifact: one versioned, content-hashed JSON document holding everything needed to
//! score a customer the way training did — schema, fitted features, model, calibration,
//! threshold — plus training metrics, drift references and training metadata.
//!
//! The model id is derived from a SHA-256 of the document's canonical JSON (with the id fields
//! blank), so identical training runs give identical ids and any edit to a stored file is caught
//! at load time.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::data::schema::Schema;
use crate::error::{Error, Result};
use crate::features::FittedPipeline;
use crate::metrics::Report;
use crate::model::calibrate::Calibrator;
use crate::model::family::{Family, Model};
use crate::serve::drift::Reference;
use crate::serve::validate::first_non_finite;

/// The artifact format this build writes and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;

/// Cross-validated metrics of one model family, as compared during training.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FamilyResult {
    /// Family name (`logistic`, `forest`, `gbdt`).
    pub name: String,
    /// Metrics on out-of-fold predictions (uncalibrated, at the best-F1 threshold).
    pub cv: Report,
}

crate::map_struct!(FamilyResult { name, cv });

/// What training measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainingMetrics {
    /// Every family compared, in comparison order.
    pub models: Vec<FamilyResult>,
    /// The family kept.
    pub chosen: String,
    /// How the folds were made (e.g. `stratified 5-fold`, `rolling-origin 4 folds on snapshot_date`).
    pub validation: String,
    /// Calibration kept (`none`, `platt`, `isotonic`) and why.
    pub calibration: String,
    /// Metrics of the kept model's calibrated out-of-fold predictions at the chosen threshold.
    pub calibrated_cv: Report,
}

crate::map_struct!(TrainingMetrics {
    models,
    chosen,
    validation,
    calibration,
    calibrated_cv,
});

/// Facts about the training run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainingMetadata {
    /// Clean training rows used.
    pub rows: usize,
    /// Rows set aside by validation (quarantined), not trained on.
    pub quarantined_rows: usize,
    /// Master seed of the run.
    pub seed: u64,
    /// SHA-256 of the training file's bytes (hex).
    pub data_hash: String,
    /// When the artifact was made (ISO 8601, supplied by the caller: the core has no clock).
    pub created_at: String,
    /// Version of Ebb that trained it.
    pub ebb_version: String,
    /// Names of the model features, in matrix order.
    pub feature_names: Vec<String>,
}

crate::map_struct!(TrainingMetadata {
    rows,
    quarantined_rows,
    seed,
    data_hash,
    created_at,
    ebb_version,
    feature_names,
});

/// The whole model artifact.
#[derive(Debug, Clone, Serialize)]
pub struct Artifact {
    /// Format version; loading rejects unknown or newer versions.
    pub format_version: u32,
    /// Short id derived from the content hash (`m-` + 12 hex digits).
    pub model_id: String,
    /// SHA-256 of the canonical JSON with `model_id` and `content_hash` blank.
    pub content_hash: String,
    /// Column types, target and id columns.
    pub schema: Schema,
    /// Fitted feature pipeline.
    pub pipeline: FittedPipeline,
    /// The fitted model.
    pub model: Model,
    /// Maps the model's probability to a calibrated one.
    pub calibration: Calibrator,
    /// Calibrated probability at or above which a customer is flagged.
    pub threshold: f64,
    /// Training metrics.
    pub metrics: TrainingMetrics,
    /// Reference distributions for drift monitoring.
    pub reference: Reference,
    /// Training metadata.
    pub metadata: TrainingMetadata,
}

crate::map_struct!(Artifact {
    format_version,
    model_id,
    content_hash,
    schema,
    pipeline,
    model,
    calibration,
    threshold,
    metrics,
    reference,
    metadata,
});

fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// SHA-256 of arbitrary bytes as hex (used for the training data hash).
pub fn data_hash(bytes: &[u8]) -> String {
    sha256_hex(bytes)
}

/// SHA-256 fed in pieces, for files streamed in chunks.
#[derive(Default)]
pub struct StreamingHash(Sha256);

impl StreamingHash {
    /// Adds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The hex digest of everything added.
    pub fn finish_hex(self) -> String {
        hex(&self.0.finalize())
    }
}

/// The content hash of a saved file computed from its bytes: SHA-256 of the file without the
/// whitespace between tokens, with the top-level `model_id` and `content_hash` values blank.
/// Every file Ebb writes, compact or laid out by [`pretty`], is its artifact's compact JSON
/// with whitespace added between tokens, so for those this is [`Artifact::compute_hash`]'s
/// digest, with no second serialisation of the artifact: the edge worker then carries no
/// writer of the artifact's types (10.6 KB of its wasm, gzipped; BENCHMARKS.md, "Worker wasm
/// size: the content hash from the file's bytes"). A file a tool re-encoded (keys reordered,
/// `0.5` written `5e-1`) gets another digest. `json` is JSON that was already read.
fn saved_hash(json: &[u8]) -> String {
    let mut hash = Sha256::new();
    // Bytes from `pending` up to the current position are hashed as they are.
    let mut pending = 0;
    let mut depth = 0usize;
    // At depth 1 of the top-level object: whether the next string is a key, and whether the
    // next string value is the `model_id` or the `content_hash`, to be hashed blank.
    let mut next_is_key = false;
    let mut blank_value = false;
    let mut at = 0;
    while at < json.len() {
        match json[at] {
            b' ' | b'\n' | b'\r' | b'\t' => {
                hash.update(&json[pending..at]);
                while at < json.len() && matches!(json[at], b' ' | b'\n' | b'\r' | b'\t') {
                    at += 1;
                }
                pending = at;
            }
            b'"' => {
                let end = string_end(json, at);
                if depth == 1 && next_is_key {
                    let key = json.get(at + 1..end - 1).unwrap_or_default();
                    blank_value = key == b"model_id" || key == b"content_hash";
                    next_is_key = false;
                } else if depth == 1 && blank_value {
                    hash.update(&json[pending..at]);
                    hash.update(b"\"\"");
                    pending = end;
                    blank_value = false;
                }
                at = end;
            }
            open @ (b'{' | b'[') => {
                depth += 1;
                next_is_key = depth == 1 && open == b'{';
                at += 1;
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                at += 1;
            }
            b',' => {
                next_is_key = depth == 1;
                at += 1;
            }
            _ => at += 1,
        }
    }
    hash.update(&json[pending..]);
    hex(&hash.finalize())
}

/// The position just past the string that opens at `json[start]` (a `"`), escapes included.
fn string_end(json: &[u8], start: usize) -> usize {
    let mut at = start + 1;
    while at < json.len() {
        match json[at] {
            b'\\' => at += 2,
            b'"' => return at + 1,
            _ => at += 1,
        }
    }
    json.len()
}

/// `compact` JSON (serde_json's compact output: no whitespace outside strings) laid out byte
/// for byte as `serde_json::to_string_pretty` lays it out: two spaces of indent per level, one
/// value or key per line, `": "` after a key, `[]` and `{}` when empty.
fn pretty(compact: &str) -> String {
    fn newline(out: &mut String, depth: usize) {
        out.push('\n');
        for _ in 0..depth {
            out.push_str("  ");
        }
    }
    let mut out = String::with_capacity(compact.len() + compact.len() / 2);
    let mut depth = 0usize;
    let mut chars = compact.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                // A string, escapes included, is copied as it is.
                out.push('"');
                while let Some(c) = chars.next() {
                    out.push(c);
                    match c {
                        '\\' => out.extend(chars.next()),
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '{' | '[' => {
                out.push(c);
                let close = if c == '{' { '}' } else { ']' };
                if chars.peek() == Some(&close) {
                    out.extend(chars.next());
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(',');
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            _ => out.push(c),
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

impl Artifact {
    /// Assembles an artifact and stamps its content hash and model id.
    #[allow(clippy::too_many_arguments)]
    pub fn build(
        schema: Schema,
        pipeline: FittedPipeline,
        model: Model,
        calibration: Calibrator,
        threshold: f64,
        metrics: TrainingMetrics,
        reference: Reference,
        metadata: TrainingMetadata,
    ) -> Result<Artifact> {
        Artifact {
            format_version: FORMAT_VERSION,
            model_id: String::new(),
            content_hash: String::new(),
            schema,
            pipeline,
            model,
            calibration,
            threshold,
            metrics,
            reference,
            metadata,
        }
        .restamped()
    }

    /// This artifact with its content hash and model id computed again from its contents, as
    /// the changed artifact's own file would carry them: a copy given another
    /// `metadata.created_at` (a distinct version of the same model), or one edited field by
    /// field the way a crafted file would be (tests and fuzzing check that loading still
    /// refuses it). Nothing else changes, `format_version` included.
    pub fn restamped(mut self) -> Result<Artifact> {
        self.content_hash = self.compute_hash()?;
        self.model_id = format!("m-{}", &self.content_hash[..12]);
        Ok(self)
    }

    /// The family of the stored model.
    pub fn family(&self) -> Family {
        self.model.family()
    }

    /// Per model input (in `pipeline.inputs` order), whether a prediction must carry it: a field
    /// the training data never had missing is required, because the model has not learned what
    /// a missing value means there.
    pub fn required_fields(&self) -> Vec<bool> {
        self.pipeline
            .inputs
            .iter()
            .map(|input| {
                self.reference
                    .columns
                    .iter()
                    .find(|c| c.name == input.name)
                    .is_some_and(|c| c.missing == 0 && c.present > 0)
            })
            .collect()
    }

    /// SHA-256 of the compact JSON with `model_id` and `content_hash` blank. The two are taken
    /// out while it is written and put back, rather than blanked in a copy of the whole artifact
    /// (the model's trees and all: time and memory at every load, and the `Clone` code of every
    /// artifact type in the wasm builds).
    fn compute_hash(&mut self) -> Result<String> {
        let model_id = core::mem::take(&mut self.model_id);
        let content_hash = core::mem::take(&mut self.content_hash);
        let json = serde_json::to_vec(&*self);
        self.model_id = model_id;
        self.content_hash = content_hash;
        let json = json.map_err(|e| Error::Artifact {
            message: format!("cannot serialise the artifact: {e}"),
        })?;
        Ok(sha256_hex(&json))
    }

    /// The artifact as pretty-printed JSON. Refuses an artifact holding a non-finite number
    /// (JSON would write `null` where a number must be read back) or failing
    /// [`Artifact::validate`], so whatever is saved loads.
    pub fn to_json(&self) -> Result<String> {
        if let Some(at) = first_non_finite(self) {
            return Err(Error::Artifact {
                message: format!(
                    "cannot save: {at} is not a finite number, which JSON cannot hold"
                ),
            });
        }
        self.validate().map_err(|e| Error::Artifact {
            message: format!("cannot save an artifact that would not load: {e}"),
        })?;
        // The compact writer the content hash uses, then laid out: a second (pretty) writer
        // of every artifact type would be tens of KB more in the wasm builds.
        let compact = serde_json::to_string(self).map_err(|e| Error::Artifact {
            message: format!("cannot serialise the artifact: {e}"),
        })?;
        Ok(pretty(&compact))
    }

    /// Loads an artifact from JSON, checking the format version first (so a newer file gets a
    /// clear "upgrade Ebb" message rather than a field error), then the content hash, then
    /// everything [`Artifact::validate`] checks: a crafted file with a valid hash is refused
    /// with the field that is wrong before anything uses it. The content hash is checked on the
    /// artifact as read, so a file a tool re-encoded (keys reordered, numbers rewritten) still
    /// loads.
    #[inline]
    pub fn from_json(json: &str) -> Result<Artifact> {
        Artifact::load(json, Artifact::compute_hash, "")
    }

    /// [`Artifact::from_json`] checking the content hash on the file's bytes as Ebb saved them
    /// (`saved_hash`), for the edge worker: the same artifacts load from every file Ebb writes
    /// and the wasm carries no second writer of the artifact's types. A file a tool re-encoded
    /// is refused with a content hash mismatch that says to send it with `ebb publish`.
    #[inline]
    pub fn from_saved_json(json: &str) -> Result<Artifact> {
        Artifact::load(
            json,
            |_| Ok(saved_hash(json.as_bytes())),
            " (the edge checks the file as Ebb saved it: send one a tool reformatted with `ebb publish`, which sends it as Ebb saves it)",
        )
    }

    /// The loading both readers share, the content hash computed by `content_hash` and the
    /// mismatch message ending with `mismatch_hint`.
    ///
    /// `#[inline]` so that the caller's crate compiles it and the JSON reading it instantiates
    /// (the readers of every artifact type, well over 100 KB of wasm): the wasm
    /// builds optimise the worker and the dashboard for size but keep this crate at full speed
    /// for its compute, and loading a model is no compute worth that size (BENCHMARKS.md,
    /// "Artifact reading and the wasm size").
    #[inline]
    fn load(
        json: &str,
        content_hash: impl FnOnce(&mut Artifact) -> Result<String>,
        mismatch_hint: &str,
    ) -> Result<Artifact> {
        struct Header {
            format_version: Option<u32>,
        }
        crate::map_struct!(Header { format_version });

        // Read as bytes, not `from_str`: request bodies are read from bytes, and one reader
        // type means one copy of serde_json's parser in the wasm builds (BENCHMARKS.md, "One
        // JSON reader"); for text that is already UTF-8 both give the same values and errors.
        let header: Header =
            serde_json::from_slice(json.as_bytes()).map_err(|e| Error::Artifact {
                message: format!("not a model artifact (invalid JSON: {e})"),
            })?;
        match header.format_version {
            None => {
                return Err(Error::Artifact {
                    message: "not a model artifact: `format_version` is missing".to_string(),
                })
            }
            Some(v) if v > FORMAT_VERSION => {
                return Err(Error::Artifact {
                    message: format!(
                        "format_version {v} is newer than this build of Ebb reads ({FORMAT_VERSION}): upgrade Ebb"
                    ),
                })
            }
            Some(0) => {
                return Err(Error::Artifact { message: "format_version 0 is not a known format".to_string() })
            }
            Some(_) => {}
        }
        let mut artifact: Artifact =
            serde_json::from_slice(json.as_bytes()).map_err(|e| Error::Artifact {
                message: format!("the file does not match format_version {FORMAT_VERSION}: {e}"),
            })?;
        let expected = content_hash(&mut artifact)?;
        if expected != artifact.content_hash {
            return Err(Error::Artifact {
                message: format!(
                    "content hash mismatch (stored {}, computed {expected}): the file was modified or corrupted{mismatch_hint}",
                    artifact.content_hash
                ),
            });
        }
        if artifact.model_id != format!("m-{}", &expected[..12]) {
            return Err(Error::Artifact {
                message: format!(
                    "model_id `{}` does not match the content hash",
                    artifact.model_id
                ),
            });
        }
        artifact.validate()?;
        Ok(artifact)
    }
}

#[cfg(test)]
mod tests {
    use super::pretty;

    #[test]
    fn the_layout_is_serde_jsons_pretty_one_byte_for_byte() {
        let value = serde_json::json!({
            "empty_list": [],
            "empty_map": {},
            "nested": [[], [1, 2.5e-300, -0.0], {"a": {"b": [null, true, false]}}],
            "text": "quote \" backslash \\ braces {}[] comma, colon: tab\t newline\n \u{1} é ∑ 😀",
            "tail\\": "\\",
            "numbers": [0.1, 1e100, -17, 18446744073709551615u64],
        });
        let compact = serde_json::to_string(&value).unwrap();
        assert_eq!(
            pretty(&compact),
            serde_json::to_string_pretty(&value).unwrap()
        );
        assert_eq!(pretty("[]"), "[]");
        assert_eq!(pretty("\"a\""), "\"a\"");
    }
}
