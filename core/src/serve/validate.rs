//! What loading checks before a model is used. A content hash only proves a file was not
//! changed after it was stamped; a crafted file can carry a valid hash. So every loaded artifact
//! is checked for what scoring, explaining and monitoring rely on, and a bad one is refused with
//! the field and index that are wrong (`model.trees[3].left[17] = 5 ...`) instead of panicking,
//! looping or allocating without end later:
//!
//! - trees (forest and boosting; the packed copy is built from them): parallel arrays of equal
//!   length, children in range, after their parent and with one parent each (so every walk
//!   ends and visits a node once), leaves without children, split features below the number of
//!   features the pipeline makes, finite thresholds, values and covers;
//! - logistic regression: one finite coefficient per feature;
//! - pipeline: unique input names, encoders that fit their column type, finite scaling and clip
//!   bounds in order, target encodings with a finite value per level plus `other`;
//! - calibration: finite Platt parameters; isotonic points of equal length, sorted, in `[0, 1]`;
//! - threshold in `[0, 1]`; the pipeline's target matches the model family;
//! - drift references: one sketch per input column, in order and of its kind, bins sorted and
//!   matching their counts, counts adding up, finite moments;
//! - sizes within the bounds below, which are far above anything training makes but keep work
//!   and memory per request bounded.
//!
//! Parsing itself allocates at most a small multiple of the file's size (JSON arrays grow with
//! the elements actually read, nesting is limited to 128 levels, a forest's compact encoding
//! decodes to at most one node per byte), so the bounds are on counts, not bytes.
//!
//! Saving is the mirror image: [`Artifact::to_json`](crate::serve::artifact::Artifact::to_json)
//! refuses an artifact holding a non-finite number anywhere (JSON would write `null`, which then
//! cannot be read back as a number) and runs the same checks, so whatever can be saved loads.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;
use serde::ser::{self, Serialize};

use crate::error::{Error, Result};
use crate::features::Target;
use crate::model::family::Model;
use crate::model::tree::TreeBounds;
use crate::serve::artifact::Artifact;

/// Most trees in one ensemble (training makes at most a few thousand).
pub const MAX_TREES: usize = 100_000;
/// Most nodes in one tree (~4.2 million; a forest tree on 10 million rows has ~10,000).
pub const MAX_NODES_PER_TREE: usize = 1 << 22;
/// Most nodes over all trees (~67 million, a file of well over 1 GB).
pub const MAX_TOTAL_NODES: usize = 1 << 26;
/// Deepest leaf. Explanations walk trees recursively, keeping one path per level, so depth
/// bounds their stack and memory; unlimited-depth forests on millions of rows reach ~60.
pub const MAX_TREE_DEPTH: usize = 2_048;
/// Most input columns, and most model features the pipeline may make (~1 million each).
pub const MAX_FEATURES: usize = 1 << 20;
/// Most levels of one categorical column (training merges rare levels; ~1 million).
pub const MAX_LEVELS: usize = 1 << 20;
/// Most points of an isotonic calibration map (~16.8 million; at most one per training row).
pub const MAX_CALIBRATION_POINTS: usize = 1 << 24;
/// Most columns in the schema.
pub const MAX_SCHEMA_COLUMNS: usize = 1 << 20;

const TREE_BOUNDS: TreeBounds = TreeBounds {
    trees: MAX_TREES,
    nodes_per_tree: MAX_NODES_PER_TREE,
    total_nodes: MAX_TOTAL_NODES,
    depth: MAX_TREE_DEPTH,
};

fn invalid(path: &str, problem: String) -> Error {
    Error::Artifact {
        message: format!("{path}.{problem}"),
    }
}

impl Artifact {
    /// Checks everything scoring, explaining and monitoring rely on (see the module docs);
    /// [`Artifact::from_json`] runs it on every load and [`Artifact::to_json`] before every save.
    /// The error names the field and index that are wrong.
    pub fn validate(&self) -> Result<()> {
        let columns = &self.schema.columns;
        if columns.len() > MAX_SCHEMA_COLUMNS {
            return Err(invalid(
                "schema",
                format!(
                    "columns: {} columns, more than the {MAX_SCHEMA_COLUMNS} allowed",
                    columns.len()
                ),
            ));
        }
        let mut names = hashbrown::HashSet::with_capacity(columns.len());
        for (i, c) in columns.iter().enumerate() {
            if !names.insert(c.name.as_str()) {
                return Err(invalid(
                    "schema",
                    format!("columns[{i}].name: `{}` appears twice", c.name),
                ));
            }
        }

        self.pipeline
            .check(MAX_FEATURES, MAX_LEVELS)
            .map_err(|e| invalid("pipeline", e))?;
        // Summed in u64: on 32-bit targets (wasm) a crafted file could overflow usize. One
        // width per member: the pipeline's own encoding, then each blend part's.
        let mut widths: Vec<u64> =
            vec![self.pipeline.inputs.iter().map(|c| c.width() as u64).sum()];
        widths.extend(
            self.pipeline
                .blend
                .iter()
                .map(|p| p.encoders.iter().map(|e| e.width() as u64).sum::<u64>()),
        );
        let n_features: u64 = widths.iter().sum();
        if n_features > MAX_FEATURES as u64 {
            return Err(invalid(
                "pipeline",
                format!(
                    "inputs: they make {n_features} features, more than the {MAX_FEATURES} allowed"
                ),
            ));
        }
        let targets = self.pipeline.member_targets();
        match &self.model {
            Model::Ensemble(e) => {
                if e.members.len() != targets.len() {
                    return Err(invalid(
                        "pipeline",
                        format!(
                            "blend: {} parts, but the ensemble has {} members (one part per member after the first)",
                            self.pipeline.blend.len(),
                            e.members.len()
                        ),
                    ));
                }
                for (j, (m, &target)) in e.members.iter().zip(&targets).enumerate() {
                    let Some(wanted) = feeds(&m.model) else {
                        return Err(invalid(
                            "model",
                            format!(
                                "members[{j}].model: an ensemble cannot be a member of an ensemble"
                            ),
                        ));
                    };
                    if target != wanted {
                        let field = match j {
                            0 => "target".to_string(),
                            _ => format!("blend[{}].target", j - 1),
                        };
                        return Err(invalid(
                            "pipeline",
                            format!(
                                "{field}: {target:?} features cannot feed member {j}, a {} model",
                                m.model.family().name()
                            ),
                        ));
                    }
                    if m.model.n_features() as u64 != widths[j] {
                        return Err(invalid(
                            "model",
                            format!(
                                "members[{j}].model: the member takes {} features but its part of the pipeline makes {}",
                                m.model.n_features(),
                                widths[j]
                            ),
                        ));
                    }
                }
            }
            model => {
                if !self.pipeline.blend.is_empty() {
                    return Err(invalid(
                        "pipeline",
                        format!(
                            "blend: {} further encodings, but a {} model reads one (only an ensemble reads more)",
                            self.pipeline.blend.len(),
                            self.family().name()
                        ),
                    ));
                }
                if feeds(model) != Some(self.pipeline.target) {
                    return Err(invalid(
                        "pipeline",
                        format!(
                            "target: {:?} features cannot feed a {} model",
                            self.pipeline.target,
                            self.family().name()
                        ),
                    ));
                }
            }
        }

        self.model
            .check(n_features as usize, &TREE_BOUNDS)
            .map_err(|e| invalid("model", e))?;
        if let Model::Gbdt(m) = &self.model {
            // A categorical split reads level codes: the feature must be a column of codes, and
            // the model may know no more codes than the pipeline writes (every code the
            // pipeline writes then has a bin the trees were grown on).
            let written = self.pipeline.feature_codes();
            for (f, &n) in m.categories.iter().enumerate() {
                if n != 0 && written[f] != n as usize {
                    return Err(invalid(
                        "model",
                        format!(
                            "categories[{f}] = {n}: feature {f} ({}) is {}",
                            self.pipeline.feature_names()[f],
                            match written[f] {
                                0 => "not a column of level codes in the pipeline".to_string(),
                                w => format!("written as {w} level codes by the pipeline"),
                            }
                        ),
                    ));
                }
            }
        }
        self.calibration
            .check(MAX_CALIBRATION_POINTS)
            .map_err(|e| invalid("calibration", e))?;
        if !(0.0..=1.0).contains(&self.threshold) {
            return Err(Error::Artifact {
                message: format!(
                    "threshold = {} is not a probability in [0, 1]",
                    self.threshold
                ),
            });
        }
        self.reference
            .check(&self.pipeline, MAX_LEVELS + 1)
            .map_err(|e| invalid("reference", e))?;
        Ok(())
    }
}

/// The features a single family's model reads (`None` for an ensemble, which reads its members').
fn feeds(model: &Model) -> Option<Target> {
    match model {
        Model::Logistic(_) => Some(Target::Linear),
        Model::Forest(_) | Model::Gbdt(_) => Some(Target::Trees),
        Model::Ensemble(_) => None,
    }
}

/// The path of the first non-finite number in `value`'s serialised form (`None` when there is
/// none), such as `pipeline.inputs[2].encoder.scale = inf`.
pub fn first_non_finite<T: Serialize + ?Sized>(value: &T) -> Option<String> {
    let mut walker = Walker { path: Vec::new() };
    match value.serialize(&mut walker) {
        Ok(()) => None,
        Err(NonFinite(found)) => Some(found),
    }
}

/// One step of a path into the serialised value.
enum Step {
    Field(&'static str),
    Index(usize),
    Key(String),
}

/// A serializer that writes nothing: it only walks the value, tracking where it is, and stops
/// at the first non-finite float.
struct Walker {
    path: Vec<Step>,
}

impl Walker {
    fn float(&self, x: f64) -> core::result::Result<(), NonFinite> {
        if x.is_finite() {
            return Ok(());
        }
        let mut at = String::new();
        for step in &self.path {
            match step {
                Step::Field(name) if at.is_empty() => at.push_str(name),
                Step::Field(name) => {
                    at.push('.');
                    at.push_str(name);
                }
                Step::Index(i) => at.push_str(&format!("[{i}]")),
                Step::Key(k) => at.push_str(&format!("[{k}]")),
            }
        }
        Err(NonFinite(format!("{at} = {x}")))
    }

    fn nested<T: Serialize + ?Sized>(
        &mut self,
        step: Step,
        value: &T,
    ) -> core::result::Result<(), NonFinite> {
        self.path.push(step);
        let result = value.serialize(&mut *self);
        self.path.pop();
        result
    }
}

#[derive(Debug)]
struct NonFinite(String);

impl fmt::Display for NonFinite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl ser::StdError for NonFinite {}

impl ser::Error for NonFinite {
    fn custom<M: fmt::Display>(msg: M) -> Self {
        NonFinite(msg.to_string())
    }
}

type Done = core::result::Result<(), NonFinite>;

impl<'a> ser::Serializer for &'a mut Walker {
    type Ok = ();
    type Error = NonFinite;
    type SerializeSeq = Items<'a>;
    type SerializeTuple = Items<'a>;
    type SerializeTupleStruct = Items<'a>;
    type SerializeTupleVariant = Items<'a>;
    type SerializeMap = Entries<'a>;
    type SerializeStruct = &'a mut Walker;
    type SerializeStructVariant = &'a mut Walker;

    fn serialize_bool(self, _: bool) -> Done {
        Ok(())
    }
    fn serialize_i8(self, _: i8) -> Done {
        Ok(())
    }
    fn serialize_i16(self, _: i16) -> Done {
        Ok(())
    }
    fn serialize_i32(self, _: i32) -> Done {
        Ok(())
    }
    fn serialize_i64(self, _: i64) -> Done {
        Ok(())
    }
    fn serialize_u8(self, _: u8) -> Done {
        Ok(())
    }
    fn serialize_u16(self, _: u16) -> Done {
        Ok(())
    }
    fn serialize_u32(self, _: u32) -> Done {
        Ok(())
    }
    fn serialize_u64(self, _: u64) -> Done {
        Ok(())
    }
    fn serialize_f32(self, x: f32) -> Done {
        self.float(f64::from(x))
    }
    fn serialize_f64(self, x: f64) -> Done {
        self.float(x)
    }
    fn serialize_char(self, _: char) -> Done {
        Ok(())
    }
    fn serialize_str(self, _: &str) -> Done {
        Ok(())
    }
    fn serialize_bytes(self, _: &[u8]) -> Done {
        Ok(())
    }
    fn serialize_none(self) -> Done {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Done {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Done {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Done {
        Ok(())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Done {
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Done {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Done {
        self.nested(Step::Field(variant), value)
    }
    fn serialize_seq(self, _: Option<usize>) -> core::result::Result<Items<'a>, NonFinite> {
        Ok(Items {
            walker: self,
            next: 0,
        })
    }
    fn serialize_tuple(self, _: usize) -> core::result::Result<Items<'a>, NonFinite> {
        Ok(Items {
            walker: self,
            next: 0,
        })
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> core::result::Result<Items<'a>, NonFinite> {
        Ok(Items {
            walker: self,
            next: 0,
        })
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> core::result::Result<Items<'a>, NonFinite> {
        Ok(Items {
            walker: self,
            next: 0,
        })
    }
    fn serialize_map(self, _: Option<usize>) -> core::result::Result<Entries<'a>, NonFinite> {
        Ok(Entries {
            walker: self,
            key: String::new(),
        })
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> core::result::Result<&'a mut Walker, NonFinite> {
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> core::result::Result<&'a mut Walker, NonFinite> {
        Ok(self)
    }
}

/// Elements of a sequence or tuple, numbered for the path.
struct Items<'a> {
    walker: &'a mut Walker,
    next: usize,
}

impl Items<'_> {
    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Done {
        self.next += 1;
        self.walker.nested(Step::Index(self.next - 1), value)
    }
}

impl ser::SerializeSeq for Items<'_> {
    type Ok = ();
    type Error = NonFinite;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Done {
        self.item(value)
    }
    fn end(self) -> Done {
        Ok(())
    }
}

impl ser::SerializeTuple for Items<'_> {
    type Ok = ();
    type Error = NonFinite;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Done {
        self.item(value)
    }
    fn end(self) -> Done {
        Ok(())
    }
}

impl ser::SerializeTupleStruct for Items<'_> {
    type Ok = ();
    type Error = NonFinite;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Done {
        self.item(value)
    }
    fn end(self) -> Done {
        Ok(())
    }
}

impl ser::SerializeTupleVariant for Items<'_> {
    type Ok = ();
    type Error = NonFinite;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Done {
        self.item(value)
    }
    fn end(self) -> Done {
        Ok(())
    }
}

/// Entries of a map; a value's path step is its key as JSON.
struct Entries<'a> {
    walker: &'a mut Walker,
    key: String,
}

impl ser::SerializeMap for Entries<'_> {
    type Ok = ();
    type Error = NonFinite;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Done {
        // A float key is checked like any number; other keys only name the path.
        key.serialize(&mut *self.walker)?;
        self.key = serde_json::to_string(key).unwrap_or_default();
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Done {
        let key = core::mem::take(&mut self.key);
        self.walker.nested(Step::Key(key), value)
    }
    fn end(self) -> Done {
        Ok(())
    }
}

impl ser::SerializeStruct for &mut Walker {
    type Ok = ();
    type Error = NonFinite;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, name: &'static str, value: &T) -> Done {
        self.nested(Step::Field(name), value)
    }
    fn end(self) -> Done {
        Ok(())
    }
}

impl ser::SerializeStructVariant for &mut Walker {
    type Ok = ();
    type Error = NonFinite;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, name: &'static str, value: &T) -> Done {
        self.nested(Step::Field(name), value)
    }
    fn end(self) -> Done {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::ingest::{read_csv, CsvOptions};
    use crate::data::schema::{infer, InferOptions};
    use crate::data::table::Table;
    use crate::features::{CategoricalEncoder, Encoder};
    use crate::model::boost::CategoricalSplits;
    use crate::model::calibrate::Calibrator;
    use crate::model::ensemble::{EnsembleModel, Member};
    use crate::model::family::Family;
    use crate::model::tree::{check_trees, Tree};
    use crate::serve::artifact::TrainingMetadata;
    use crate::serve::drift::Bins;
    use crate::serve::scorer::Scorer;
    use crate::train::{train, TrainParams};
    use alloc::vec;
    use proptest::prelude::*;
    use std::sync::OnceLock;

    /// A small churn table; `big` scales the numeric columns (1 = ordinary values) and the
    /// `extreme` columns hold values near f64::MAX of both signs.
    fn table(rows: usize, seed: u64, big: f64) -> Table {
        let mut csv = String::from("id,usage,extreme,huge,plan,city,churn\n");
        let mut state = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        for i in 0..rows {
            let u = next();
            let churn = next() < 0.2 + 0.5 * u;
            let sign = if next() < 0.5 { -1.0 } else { 1.0 };
            let extreme = sign * 1e200 * (1.0 + 9.0 * next());
            let huge = if next() < 0.5 {
                1e308
            } else {
                -f64::MAX * next()
            };
            let plan = ["basic", "plus", "pro"][(next() * 3.0) as usize];
            // Enough levels to be target-encoded rather than one-hot.
            let city = (next() * 16.0) as usize;
            let usage = if next() < 0.05 {
                String::new()
            } else {
                format!("{:e}", u * 40.0 * big)
            };
            csv.push_str(&format!(
                "C{i},{usage},{extreme:e},{huge:e},{plan},city{city},{}\n",
                u8::from(churn)
            ));
        }
        read_csv(csv.as_bytes(), &CsvOptions::default()).unwrap()
    }

    fn trained_on(table: &Table, family: Family, seed: u64) -> Artifact {
        trained_with(table, family, seed, CategoricalSplits::default())
    }

    /// A gbdt with native categorical splits (`plan` and `city` as level codes).
    fn trained_on_native(table: &Table) -> Artifact {
        trained_with(table, Family::Gbdt, 3, CategoricalSplits::Native)
    }

    fn trained_with(
        table: &Table,
        family: Family,
        seed: u64,
        categorical: CategoricalSplits,
    ) -> Artifact {
        let schema = infer(table, &InferOptions::new().with_target("churn"))
            .unwrap()
            .schema;
        let params = TrainParams::default()
            .with_families(vec![family])
            .with_folds(2)
            .with_seed(seed);
        let params = TrainParams {
            boost: params
                .boost
                .clone()
                .with_n_trees(8)
                .with_categorical(categorical),
            forest: params.forest.clone().with_n_trees(6),
            ..params
        };
        let out = train(
            table,
            &schema,
            &params,
            &mut crate::progress::Reporter::silent(),
            &|| None,
        )
        .unwrap();
        let metadata = TrainingMetadata {
            rows: table.n_rows(),
            quarantined_rows: 0,
            seed,
            data_hash: String::new(),
            created_at: String::new(),
            ebb_version: String::new(),
            feature_names: out.pipeline.feature_names(),
        };
        Artifact::build(
            schema,
            out.pipeline,
            out.model,
            out.calibration,
            out.threshold,
            out.metrics,
            out.reference,
            metadata,
        )
        .unwrap()
    }

    /// One trained artifact per family (trained once for all tests) and its training table.
    fn fixture(family: Family) -> &'static (Artifact, Table) {
        static FIXTURES: OnceLock<Vec<(Artifact, Table)>> = OnceLock::new();
        let all = FIXTURES.get_or_init(|| {
            Family::ALL
                .iter()
                .map(|&f| {
                    let t = table(240, 5, 1.0);
                    (trained_on(&t, f, 7), t)
                })
                .collect()
        });
        &all[Family::ALL.iter().position(|&f| f == family).unwrap()]
    }

    /// Re-stamps the content hash of a (tampered) artifact, as a crafted file would, and
    /// writes it without the save-time checks.
    fn restamped_json(a: &Artifact) -> String {
        serde_json::to_string(&a.clone().restamped().unwrap()).unwrap()
    }

    /// Loads `tamper`ed copy of the `family` fixture and returns the error message.
    fn load_error(family: Family, tamper: impl FnOnce(&mut Artifact)) -> String {
        let mut a = fixture(family).0.clone();
        tamper(&mut a);
        match Artifact::from_json(&restamped_json(&a)) {
            Ok(_) => panic!("a tampered artifact loaded"),
            Err(e) => e.to_string(),
        }
    }

    fn assert_error(message: String, expected: &str) {
        assert!(
            message.contains(expected),
            "`{message}` does not mention `{expected}`"
        );
    }

    fn trees(a: &mut Artifact) -> &mut Vec<Tree> {
        match &mut a.model {
            Model::Forest(m) => &mut m.trees,
            Model::Gbdt(m) => &mut m.trees,
            Model::Logistic(_) | Model::Ensemble(_) => panic!("no trees"),
        }
    }

    /// An ensemble of the three fixtures (trained on the same table), built as training builds
    /// one: the members' pipelines blended in member order.
    fn ensemble() -> Artifact {
        let parts: Vec<&Artifact> = Family::ALL.iter().map(|&f| &fixture(f).0).collect();
        let pipelines: Vec<_> = parts.iter().map(|a| a.pipeline.clone()).collect();
        let members = parts
            .iter()
            .zip([0.4, 2.0, 0.7])
            .map(|(a, weight)| Member {
                weight,
                model: a.model.clone(),
            })
            .collect();
        let first = parts[0].clone();
        Artifact::build(
            first.schema,
            crate::features::FittedPipeline::blend_of(&pipelines).unwrap(),
            Model::Ensemble(EnsembleModel {
                bias: -1.0,
                members,
            }),
            first.calibration,
            first.threshold,
            first.metrics,
            first.reference,
            first.metadata,
        )
        .unwrap()
    }

    fn members(a: &mut Artifact) -> &mut Vec<Member> {
        match &mut a.model {
            Model::Ensemble(e) => &mut e.members,
            _ => panic!("not an ensemble"),
        }
    }

    #[test]
    fn ensembles_load_and_crafted_ones_are_refused_naming_the_field() {
        let good = ensemble();
        let loaded = Artifact::from_json(&good.to_json().unwrap()).unwrap();
        assert_eq!(loaded.family(), Family::Ensemble);
        assert_eq!(loaded.pipeline.member_widths().len(), 3);
        // A single family's file has no `blend` field: files of earlier builds read, and hash,
        // as before.
        assert!(!fixture(Family::Gbdt)
            .0
            .to_json()
            .unwrap()
            .contains("\"blend\""));
        let error = |tamper: &dyn Fn(&mut Artifact)| {
            let mut a = good.clone();
            tamper(&mut a);
            match Artifact::from_json(&restamped_json(&a)) {
                Ok(_) => panic!("a tampered ensemble loaded"),
                Err(e) => e.to_string(),
            }
        };
        assert_error(
            error(&|a| members(a)[1].weight = -1.0),
            "model.members[1].weight = -1 is not a finite non-negative number",
        );
        assert_error(
            error(&|a| members(a).clear()),
            "pipeline.blend: 2 parts, but the ensemble has 0 members",
        );
        assert_error(
            error(&|a| a.pipeline.blend[0].target = Target::Linear),
            "pipeline.blend[0].target: Linear features cannot feed member 1, a forest model",
        );
        assert_error(
            error(&|a| {
                a.pipeline.blend[1].encoders.pop();
            }),
            "pipeline.blend[1].encoders: ",
        );
        assert_error(
            error(&|a| {
                let nested = a.model.clone();
                members(a)[0].model = nested;
            }),
            "model.members[0].model: an ensemble cannot be a member of an ensemble",
        );
        assert_error(
            error(&|a| {
                if let Model::Gbdt(m) = &mut members(a)[2].model {
                    m.n_features += 1;
                }
            }),
            "model.members[2].model: the member takes",
        );
        assert_error(
            error(&|a| {
                let width = members(a)[2].model.n_features() as u32;
                if let Model::Gbdt(m) = &mut members(a)[2].model {
                    m.trees[0].feature[0] = width;
                }
            }),
            "model.members[2].model.trees[0].feature[0]",
        );
        // A single model given an ensemble's further encodings is refused too.
        assert_error(
            load_error(Family::Gbdt, |a| {
                a.pipeline.blend = good.pipeline.blend.clone()
            }),
            "pipeline.blend: 2 further encodings, but a gbdt model reads one",
        );
    }

    /// The first internal node of tree 0 with an internal child, and that child.
    fn internal_pair(tree: &Tree) -> (usize, usize) {
        (0..tree.n_nodes())
            .filter(|&n| !tree.is_leaf(n))
            .find_map(|n| {
                let l = tree.left[n] as usize;
                (!tree.is_leaf(l)).then_some((n, l))
            })
            .expect("a tree two splits deep")
    }

    fn scores(a: &Artifact, t: &Table) -> Vec<u64> {
        Scorer::new(a)
            .score_table(t)
            .unwrap()
            .iter()
            .map(|s| s.as_ref().map_or(u64::MAX, |s| s.probability.to_bits()))
            .collect()
    }

    #[test]
    fn trained_artifacts_load() {
        // The fixtures cover every encoder: `city` has too many levels for one-hot, and gbdt
        // reads categorical columns as level codes.
        let encoded = |f| {
            fixture(f)
                .0
                .pipeline
                .inputs
                .iter()
                .any(|c| match c.encoder {
                    Encoder::Categorical(CategoricalEncoder::Encoded { .. }) => f != Family::Gbdt,
                    Encoder::Categorical(CategoricalEncoder::Codes { .. }) => f == Family::Gbdt,
                    _ => false,
                })
        };
        assert!(Family::ALL.into_iter().all(encoded));
        for family in Family::ALL {
            let (a, t) = fixture(family);
            let back = Artifact::from_json(&a.to_json().unwrap()).unwrap();
            assert_eq!(scores(&back, t), scores(a, t));
        }
    }

    #[test]
    fn a_cycle_is_refused_not_followed() {
        // A forest's compact encoding cannot express a loop (children are implied by preorder;
        // saving one fails in `compact`'s tests): gbdt trees can.
        {
            let family = Family::Gbdt;
            let e = load_error(family, |a| {
                let (parent, child) = internal_pair(&trees(a)[0]);
                // The child's left now points back at its parent: a loop.
                trees(a)[0].left[child] = parent as u32;
            });
            assert_error(e, "model.trees[0].left[");
            assert_error(
                load_error(family, |a| trees(a)[0].left[0] = 0),
                "model.trees[0].left[0] = 0 is not a node after 0",
            );
        }
    }

    #[test]
    fn children_out_of_range_shared_or_on_leaves_are_refused() {
        let f = Family::Gbdt;
        assert_error(
            load_error(f, |a| trees(a)[1].right[0] = 100_000),
            "model.trees[1].right[0] = 100000 is not a node after 0",
        );
        assert_error(
            load_error(f, |a| {
                let t = &mut trees(a)[0];
                t.right[0] = t.left[0];
            }),
            "already has a parent",
        );
        assert_error(
            load_error(f, |a| {
                let t = &mut trees(a)[0];
                let leaf = (0..t.n_nodes()).find(|&n| t.is_leaf(n)).unwrap();
                t.left[leaf] = 1;
            }),
            "is a leaf and cannot have children",
        );
        assert_error(
            load_error(f, |a| {
                let t = &mut trees(a)[0];
                // Turning the root into a leaf leaves the rest unreachable.
                t.feature[0] = crate::model::tree::LEAF;
                t.left[0] = 0;
                t.right[0] = 0;
            }),
            "is not reachable from the root",
        );
    }

    #[test]
    fn split_features_must_exist() {
        for family in [Family::Forest, Family::Gbdt] {
            let n = fixture(family).0.pipeline.n_features();
            assert_error(
                load_error(family, |a| trees(a)[2].feature[0] = n as u32),
                &format!(
                    "model.trees[2].feature[0] = {n} is out of range: the model has {n} features"
                ),
            );
            assert_error(
                load_error(family, |a| match &mut a.model {
                    Model::Forest(m) => m.n_features += 1,
                    Model::Gbdt(m) => m.n_features += 1,
                    Model::Logistic(_) | Model::Ensemble(_) => unreachable!(),
                }),
                "model.n_features: the model takes",
            );
        }
    }

    #[test]
    fn parallel_arrays_must_agree() {
        // A forest's compact encoding has no parallel arrays to disagree: gbdt trees do.
        assert_error(
            load_error(Family::Gbdt, |a| {
                trees(a)[0].threshold.pop();
            }),
            "model.trees[0].threshold: ",
        );
        assert_error(
            load_error(Family::Gbdt, |a| {
                trees(a)[3].cover.push(1.0);
            }),
            "model.trees[3].cover: ",
        );
        assert_error(
            load_error(Family::Gbdt, |a| {
                trees(a)[0] = Tree {
                    feature: vec![],
                    ..Tree::leaf(0.0, 1.0)
                }
            }),
            "at least one node",
        );
        // A forest tree without nodes is written as no bytes, which cannot be decoded.
        assert_error(
            load_error(Family::Forest, |a| {
                trees(a)[0] = Tree {
                    feature: vec![],
                    threshold: vec![],
                    default_left: vec![],
                    left: vec![],
                    right: vec![],
                    value: vec![],
                    cover: vec![],
                    categories: vec![],
                }
            }),
            "trees.nodes[0]: byte 0: truncated node",
        );
        assert_error(
            load_error(Family::Forest, |a| trees(a).clear()),
            "model.trees: a forest needs at least one tree",
        );
        assert_error(
            load_error(Family::Gbdt, |a| match &mut a.model {
                Model::Gbdt(m) => {
                    m.gain_importance.pop();
                }
                _ => unreachable!(),
            }),
            "model.gain_importance: ",
        );
    }

    #[test]
    fn logistic_coefficients_match_the_pipeline() {
        assert_error(
            load_error(Family::Logistic, |a| match &mut a.model {
                Model::Logistic(m) => m.coefficients.push(0.5),
                _ => unreachable!(),
            }),
            "model.coefficients: the model takes",
        );
    }

    #[test]
    fn non_finite_numbers_are_refused_on_load_and_on_save() {
        let mut a = fixture(Family::Gbdt).0.clone();
        let (_, child) = internal_pair(&trees(&mut a)[0]);
        let leaf = trees(&mut a)[0].right[child] as usize;
        trees(&mut a)[0].value[leaf] = f64::INFINITY;
        let e = a.validate().unwrap_err().to_string();
        assert_error(
            e,
            &format!("model.trees[0].value[{leaf}] = inf is not a finite number"),
        );
        let e = a.to_json().unwrap_err().to_string();
        assert_error(
            e,
            &format!("cannot save: model.trees[0].value[{leaf}] = inf is not a finite number"),
        );

        // Metrics are not checked structurally, but they cannot be saved as `null` either.
        let mut a = fixture(Family::Logistic).0.clone();
        a.metrics.models[0].cv.roc_auc = f64::NAN;
        assert_error(
            a.to_json().unwrap_err().to_string(),
            "cannot save: metrics.models[0].cv.roc_auc = NaN",
        );
        // A null in the file where a number belongs is a load error, not a NaN.
        let json = fixture(Family::Logistic).0.to_json().unwrap();
        let nulled = json.replacen("\"threshold\": ", "\"threshold\": null, \"x\": ", 1);
        assert!(Artifact::from_json(&nulled).is_err());
    }

    #[test]
    fn pipeline_encoders_are_checked() {
        let f = Family::Logistic;
        let numeric = |a: &mut Artifact| {
            let i = a
                .pipeline
                .inputs
                .iter()
                .position(|c| matches!(c.encoder, Encoder::Numeric(_)))
                .unwrap();
            (i, i)
        };
        assert_error(
            load_error(f, |a| {
                let (i, _) = numeric(a);
                if let Encoder::Numeric(e) = &mut a.pipeline.inputs[i].encoder {
                    e.scale = 0.0;
                }
            }),
            "encoder.scale = 0 is not positive",
        );
        assert_error(
            load_error(f, |a| {
                let (i, _) = numeric(a);
                if let Encoder::Numeric(e) = &mut a.pipeline.inputs[i].encoder {
                    core::mem::swap(&mut e.clip_low, &mut e.clip_high);
                    e.clip_low = 1.0;
                    e.clip_high = -1.0;
                }
            }),
            "encoder.clip_low = 1 is above clip_high = -1",
        );
        assert_error(
            load_error(f, |a| {
                let (i, _) = numeric(a);
                a.pipeline.inputs[i].kind = crate::data::schema::ColumnKind::Categorical;
            }),
            "a numeric encoder cannot read a category column",
        );
        assert_error(
            load_error(f, |a| {
                let name = a.pipeline.inputs[0].name.clone();
                a.pipeline.inputs[1].name = name;
            }),
            "pipeline.inputs[1].name: ",
        );
        assert_error(
            load_error(Family::Gbdt, |a| a.pipeline.target = Target::Linear),
            "pipeline.target: Linear features cannot feed a gbdt model",
        );
        // A target-encoded column needs one value per level and one for `other`.
        let mut a = fixture(f).0.clone();
        a.pipeline.inputs[0].kind = crate::data::schema::ColumnKind::Categorical;
        a.pipeline.inputs[0].encoder = Encoder::Categorical(CategoricalEncoder::Encoded {
            levels: vec!["a".into(), "b".into()],
            values: vec![0.1, 0.2],
            missing_value: 0.0,
        });
        assert_error(
            a.validate().unwrap_err().to_string(),
            "pipeline.inputs[0].encoder.values: 2 entries, but 2 levels need at least 3",
        );
    }

    #[test]
    fn calibration_threshold_and_reference_are_checked() {
        let f = Family::Forest;
        assert_error(
            load_error(f, |a| {
                a.calibration = Calibrator::Isotonic {
                    thresholds: vec![0.1, 0.5, 0.3],
                    values: vec![0.0, 0.5, 0.6],
                }
            }),
            "calibration.thresholds[2] = 0.3 is below thresholds[1] = 0.5",
        );
        assert_error(
            load_error(f, |a| {
                a.calibration = Calibrator::Isotonic {
                    thresholds: vec![0.1, 0.5],
                    values: vec![0.0],
                }
            }),
            "calibration.values: 1 entries but `thresholds` has 2",
        );
        assert_error(
            load_error(f, |a| a.threshold = 1.5),
            "threshold = 1.5 is not a probability",
        );
        assert_error(
            load_error(f, |a| a.reference.columns[0].counts[0] += 1),
            "reference.columns[0].counts add up to",
        );
        assert_error(
            load_error(f, |a| {
                a.reference.columns.pop();
            }),
            "reference.columns: ",
        );
        assert_error(
            load_error(f, |a| a.reference.scores.counts.push(0)),
            "reference.scores.counts: 21 entries, expected 20",
        );
        assert_error(
            load_error(f, |a| {
                let sketch = a
                    .reference
                    .columns
                    .iter_mut()
                    .find(|c| matches!(&c.bins, Bins::Numeric { upper_edges } if upper_edges.len() > 1))
                    .unwrap();
                if let Bins::Numeric { upper_edges } = &mut sketch.bins {
                    upper_edges.swap(0, 1);
                }
            }),
            "bins.upper_edges[1]",
        );
    }

    #[test]
    fn sizes_are_bounded() {
        let mut chain = Tree::leaf(0.0, 1.0);
        let mut node = 0;
        for _ in 0..10 {
            node = chain.split(node, 0, 0.5, true, (0.0, 1.0), (1.0, 1.0)).0;
        }
        assert_eq!(chain.check(1, 100, 10), Ok(()));
        assert!(chain
            .check(1, 100, 9)
            .unwrap_err()
            .contains("deeper than the 9 levels"));
        assert!(chain
            .check(1, 20, 10)
            .unwrap_err()
            .contains("more than the 20 a tree may have"));
        let bounds = |trees, total_nodes| TreeBounds {
            trees,
            nodes_per_tree: 100,
            total_nodes,
            depth: 100,
        };
        let forest = vec![chain.clone(), chain.clone(), chain];
        assert_eq!(check_trees(&forest, 1, &bounds(3, 63)), Ok(()));
        assert!(check_trees(&forest, 1, &bounds(2, 63)).is_err());
        assert!(check_trees(&forest, 1, &bounds(3, 62)).is_err());
    }

    #[test]
    fn extreme_values_train_save_load_and_score() {
        // Ordinary columns at 1e200 and 1e300 scale next to the near-f64::MAX ones.
        for big in [1.0, 1e200, 1e300] {
            let t = table(200, 3, big);
            for family in Family::ALL {
                let a = trained_on(&t, family, 1);
                let json = a
                    .to_json()
                    .unwrap_or_else(|e| panic!("{family:?} at {big}: {e}"));
                let back = Artifact::from_json(&json).unwrap();
                assert_eq!(back.model_id, a.model_id);
                let s = scores(&back, &t);
                assert_eq!(s, scores(&a, &t), "{family:?} at {big}");
                assert!(s.iter().all(|&b| (0.0..=1.0).contains(&f64::from_bits(b))));
            }
        }
    }

    #[test]
    fn restamping_a_new_created_at_gives_another_version_of_the_same_model() {
        let (a, t) = fixture(Family::Gbdt);
        assert_eq!(a.clone().restamped().unwrap().content_hash, a.content_hash);
        let mut later = a.clone();
        later.metadata.created_at = "2026-01-01T00:00:01Z".into();
        // Unstamped, the edit is refused; re-stamped, it loads as its own version.
        assert!(Artifact::from_json(&serde_json::to_string(&later).unwrap()).is_err());
        let later = Artifact::from_json(&restamped_json(&later)).unwrap();
        assert_ne!(later.model_id, a.model_id);
        assert_eq!(later.model_id, format!("m-{}", &later.content_hash[..12]));
        assert_eq!(scores(&later, t), scores(a, t));
    }

    /// Every number and array in a JSON value, as paths of keys and indices.
    fn spots(
        v: &serde_json::Value,
        at: &mut Vec<serde_json::Value>,
        out: &mut Vec<Vec<serde_json::Value>>,
    ) {
        match v {
            serde_json::Value::Number(_) => out.push(at.clone()),
            serde_json::Value::Array(items) => {
                out.push(at.clone());
                for (i, item) in items.iter().enumerate() {
                    at.push(i.into());
                    spots(item, at, out);
                    at.pop();
                }
            }
            serde_json::Value::Object(map) => {
                for (k, item) in map {
                    at.push(k.as_str().into());
                    spots(item, at, out);
                    at.pop();
                }
            }
            _ => {}
        }
    }

    fn at_path<'v>(
        v: &'v mut serde_json::Value,
        path: &[serde_json::Value],
    ) -> &'v mut serde_json::Value {
        path.iter().fold(v, |v, step| match step {
            serde_json::Value::String(k) => &mut v[k.as_str()],
            serde_json::Value::Number(i) => &mut v[i.as_u64().unwrap() as usize],
            _ => unreachable!(),
        })
    }

    const REPLACEMENTS: [f64; 10] = [
        0.0,
        1.0,
        -1.0,
        2.0,
        3.0,
        0.5,
        1e308,
        -1e308,
        4294967295.0,
        1e6,
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let text = String::from_utf8_lossy(&bytes);
            prop_assert!(Artifact::from_json(&text).is_err());
        }

        #[test]
        fn mutated_artifacts_never_panic(
            family in prop::sample::select(Family::ALL.to_vec()),
            mutations in proptest::collection::vec(
                (any::<prop::sample::Index>(), 0usize..REPLACEMENTS.len(), 0u8..4),
                1..4,
            ),
        ) {
            let (a, t) = fixture(family);
            let mut v = serde_json::to_value(a).unwrap();
            for (spot, replacement, how) in mutations {
                let mut all = Vec::new();
                spots(&v, &mut Vec::new(), &mut all);
                let path: &Vec<serde_json::Value> = spot.get(&all);
                let target = at_path(&mut v, path);
                match (target, how) {
                    (serde_json::Value::Array(items), 0) => { items.pop(); }
                    (serde_json::Value::Array(items), 1) => {
                        if let Some(last) = items.last().cloned() { items.push(last); }
                    }
                    (serde_json::Value::Array(items), _) => items.reverse(),
                    (target, _) => {
                        let x = REPLACEMENTS[replacement];
                        *target = if x.fract() == 0.0 && (0.0..=4294967295.0).contains(&x) {
                            serde_json::Value::from(x as u64)
                        } else {
                            serde_json::Value::from(x)
                        };
                    }
                }
            }
            // Re-stamped when the mutation still has the artifact's types, as a crafted file
            // would be; otherwise the typed parse must refuse it.
            let json = match serde_json::from_value::<Artifact>(v.clone()) {
                Ok(tampered) => restamped_json(&tampered),
                Err(_) => serde_json::to_string(&v).unwrap(),
            };
            if let Ok(loaded) = Artifact::from_json(&json) {
                let s = scores(&loaded, t);
                prop_assert_eq!(s.len(), t.n_rows());
                prop_assert!(loaded.to_json().is_ok());
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(6))]

        #[test]
        fn trained_artifacts_round_trip(
            seed in 0u64..1000,
            family in prop::sample::select(Family::ALL.to_vec()),
            exponent in -300i32..300,
        ) {
            let t = table(120, seed, libm::pow(10.0, f64::from(exponent)));
            let a = trained_on(&t, family, seed);
            let back = Artifact::from_json(&a.to_json().unwrap()).unwrap();
            prop_assert_eq!(&back.content_hash, &a.content_hash);
            prop_assert_eq!(scores(&back, &t), scores(&a, &t));
        }
    }

    /// The probabilities `artifact` gives the customers of `fuzz/fixtures/customers.csv`: what
    /// the fixtures of earlier builds' files were scored on when they were made.
    fn fixture_probabilities(artifact: &Artifact) -> Vec<f64> {
        let customers = read_csv(
            include_bytes!("../../../fuzz/fixtures/customers.csv"),
            &CsvOptions::default(),
        )
        .unwrap();
        Scorer::new(artifact)
            .score_table(&customers)
            .unwrap()
            .into_iter()
            .map(|s| s.unwrap().probability)
            .collect()
    }

    /// A forest saved before the compact encoding (node arrays; `fuzz/fixtures/forest.json` as
    /// it was at `efa239d`) still loads, scores as that build scored it (`ebb score` of
    /// `fuzz/fixtures/customers.csv` with the `efa239d` binary), and saves back with its own
    /// hash, so nothing an earlier Ebb saved stops loading.
    #[test]
    fn a_forest_saved_as_node_arrays_by_an_earlier_build_still_loads_and_scores_the_same() {
        use crate::model::compact::TreeLayout;
        use crate::model::family::Model;
        let old = include_str!("../../tests/data/forest_node_arrays.json");
        let artifact = Artifact::from_json(old).expect("an earlier build's forest loads");
        let Model::Forest(forest) = &artifact.model else {
            panic!("the fixture is a forest");
        };
        assert_eq!(forest.layout, TreeLayout::NodeArrays);
        let scored = fixture_probabilities(&artifact);
        let by_efa239d = [
            0.08234659655630715,
            0.08234659655630715,
            0.08234659655630715,
            0.08234659655630715,
            0.18517255783822742,
        ];
        assert_eq!(scored, by_efa239d);
        let again = Artifact::from_json(&artifact.to_json().unwrap()).expect("re-saved, it loads");
        assert_eq!(again.model_id, artifact.model_id);
        assert_eq!(again.content_hash, artifact.content_hash);
    }

    /// A saved file is laid out as `serde_json::to_string_pretty` laid it out (the files of
    /// earlier builds), though written through the compact writer the content hash uses.
    #[test]
    fn saved_files_are_laid_out_as_before() {
        for family in Family::ALL {
            let a = &fixture(family).0;
            assert_eq!(
                a.to_json().unwrap(),
                serde_json::to_string_pretty(a).unwrap()
            );
        }
        let e = ensemble();
        assert_eq!(
            e.to_json().unwrap(),
            serde_json::to_string_pretty(&e).unwrap()
        );
    }

    /// The tagged enums (`family`, `method`, `type`, `encoding`) are read tag first, without
    /// buffering (`crate::tagged`); a file whose keys a tool reordered, every tag then after other
    /// keys, still loads as the same model, and a missing or unknown tag is named.
    #[test]
    fn a_file_with_reordered_keys_still_loads_and_a_bad_tag_is_named() {
        /// `value` as JSON with every object's keys in reverse order: each tag goes last.
        fn reversed(value: &serde_json::Value) -> String {
            match value {
                serde_json::Value::Object(map) => {
                    let entries: Vec<String> = map
                        .iter()
                        .rev()
                        .map(|(k, v)| {
                            format!("{}:{}", serde_json::to_string(k).unwrap(), reversed(v))
                        })
                        .collect();
                    format!("{{{}}}", entries.join(","))
                }
                serde_json::Value::Array(items) => {
                    let items: Vec<String> = items.iter().map(reversed).collect();
                    format!("[{}]", items.join(","))
                }
                other => serde_json::to_string(other).unwrap(),
            }
        }
        for family in Family::ALL {
            let (a, t) = fixture(family);
            let value: serde_json::Value = serde_json::from_str(&a.to_json().unwrap()).unwrap();
            let sorted = reversed(&value);
            assert!(!sorted.contains("{\"family\""));
            let back = Artifact::from_json(&sorted).expect("a file with reordered keys loads");
            assert_eq!(back.content_hash, a.content_hash);
            assert_eq!(scores(&back, t), scores(a, t));
        }
        let json = fixture(Family::Gbdt).0.to_json().unwrap();
        let missing = json.replacen("\"family\": \"gbdt\",", "", 1);
        assert_ne!(missing, json);
        let e = Artifact::from_json(&missing).unwrap_err().to_string();
        assert_error(e, "missing field `family`");
        let unknown = json.replacen("\"family\": \"gbdt\"", "\"family\": \"xgboost\"", 1);
        let e = Artifact::from_json(&unknown).unwrap_err().to_string();
        assert_error(
            e,
            "unknown variant `xgboost`, expected one of `logistic`, `forest`, `gbdt`, `ensemble`",
        );
    }

    /// The edge's loader checks the content hash on the file's bytes (`from_saved_json`): every
    /// file Ebb writes, pretty or compact, and the files earlier builds saved, load as they do
    /// through `from_json`; a file a tool re-encoded (keys reordered, a number rewritten) loads
    /// through `from_json` only, and the edge's refusal says what to do.
    #[test]
    fn the_edge_checks_a_saved_file_by_its_bytes() {
        let mut artifacts: Vec<Artifact> =
            Family::ALL.iter().map(|&f| fixture(f).0.clone()).collect();
        artifacts.push(ensemble());
        for a in &artifacts {
            for file in [a.to_json().unwrap(), serde_json::to_string(a).unwrap()] {
                let back = Artifact::from_saved_json(&file).expect("a file Ebb saved loads");
                assert_eq!(back.content_hash, a.content_hash);
                assert_eq!(back.model_id, a.model_id);
            }
        }
        for old in [
            include_str!("../../../fuzz/fixtures/gbdt.json"),
            include_str!("../../../fuzz/fixtures/forest.json"),
            include_str!("../../../fuzz/fixtures/logistic.json"),
        ] {
            let typed = Artifact::from_json(old).unwrap();
            let saved = Artifact::from_saved_json(old).expect("an earlier build's file loads");
            assert_eq!(saved.content_hash, typed.content_hash);
        }
        let a = &fixture(Family::Logistic).0;
        let file = a.to_json().unwrap();
        let threshold = format!("\"threshold\": {:?}", a.threshold);
        assert!(file.contains(&threshold), "{threshold}");
        let exponent = format!("\"threshold\": {:e}", a.threshold);
        let rewritten = file.replacen(&threshold, &exponent, 1);
        let value: serde_json::Value = serde_json::from_str(&file).unwrap();
        let mut keys: Vec<(&String, &serde_json::Value)> =
            value.as_object().unwrap().iter().collect();
        keys.reverse();
        let reordered = format!(
            "{{{}}}",
            keys.iter()
                .map(|(k, v)| format!("{}:{}", serde_json::to_string(k).unwrap(), v))
                .collect::<Vec<_>>()
                .join(",")
        );
        for re_encoded in [rewritten, reordered] {
            assert_eq!(
                Artifact::from_json(&re_encoded).unwrap().content_hash,
                a.content_hash
            );
            let e = Artifact::from_saved_json(&re_encoded)
                .unwrap_err()
                .to_string();
            assert_error(e.clone(), "content hash mismatch");
            assert_error(e, "send one a tool reformatted with `ebb publish`");
        }
        // A changed value is refused by both, whitespace and all.
        let changed = file.replacen(&threshold, "\"threshold\": 0.123", 1);
        assert_ne!(changed, file);
        for e in [
            Artifact::from_json(&changed).unwrap_err(),
            Artifact::from_saved_json(&changed).unwrap_err(),
        ] {
            assert_error(e.to_string(), "content hash mismatch");
        }
    }

    /// A boosted model saved before native categorical splits (`fuzz/fixtures/gbdt.json`, no
    /// `categories` anywhere) still loads, scores as that build scored it (`ebb score` of
    /// `fuzz/fixtures/customers.csv` with the `cc48622` binary) and saves back with its own
    /// hash: the new fields are left out when empty.
    #[test]
    fn a_gbdt_saved_before_categorical_splits_still_loads_and_scores_the_same() {
        use crate::model::family::Model;
        let old = include_str!("../../../fuzz/fixtures/gbdt.json");
        let artifact = Artifact::from_json(old).expect("an earlier build's gbdt loads");
        let Model::Gbdt(model) = &artifact.model else {
            panic!("the fixture is a gbdt");
        };
        assert!(model.categories.is_empty());
        assert!(model.trees.iter().all(|t| t.categories.is_empty()));
        let scored = fixture_probabilities(&artifact);
        let by_cc48622 = [
            0.06296243851985142,
            0.11659808921192447,
            0.1580872981912676,
            0.09571414303428191,
            0.4728476290134857,
        ];
        assert_eq!(scored, by_cc48622);
        let again = Artifact::from_json(&artifact.to_json().unwrap()).expect("re-saved, it loads");
        assert_eq!(again.content_hash, artifact.content_hash);
    }

    /// Crafted categorical splits are refused with the tree and node named, never a panic.
    #[test]
    fn crafted_categorical_splits_are_clear_errors() {
        use crate::model::family::Model;
        let t = table(300, 3, 1.0);
        let mut a = trained_on_native(&t);
        let Model::Gbdt(m) = &a.model else {
            panic!("a gbdt")
        };
        let f = m
            .categories
            .iter()
            .position(|&n| n > 0)
            .expect("a categorical feature");
        let n = m.categories[f];
        let (tree, node) = m
            .trees
            .iter()
            .enumerate()
            .find_map(|(i, t)| {
                (0..t.categories.len())
                    .find(|&k| t.left_levels(k).is_some())
                    .map(|k| (i, k))
            })
            .expect("a categorical split");
        let back = Artifact::from_json(&a.to_json().unwrap()).unwrap();
        assert_eq!(scores(&back, &t), scores(&a, &t));
        let load = |a: &Artifact| match Artifact::from_json(&restamped_json(a)) {
            Ok(_) => panic!("a tampered artifact loaded"),
            Err(e) => e.to_string(),
        };
        fn gbdt(a: &mut Artifact) -> &mut crate::model::boost::BoostModel {
            match &mut a.model {
                Model::Gbdt(m) => m,
                _ => unreachable!("a gbdt"),
            }
        }
        gbdt(&mut a).trees[tree].categories[node].push(n);
        assert_error(
            load(&a),
            &format!("model.trees[{tree}].categories[{node}]: level code {n} is out of range"),
        );
        gbdt(&mut a).trees[tree].categories[node].pop();
        gbdt(&mut a).trees[tree].categories[node].insert(0, n + 7);
        assert_error(
            load(&a),
            &format!("model.trees[{tree}].categories[{node}][1]"),
        );
        gbdt(&mut a).trees[tree].categories[node].remove(0);
        gbdt(&mut a).categories[f] = n + 1;
        assert_error(load(&a), &format!("model.categories[{f}] = {}", n + 1));
        gbdt(&mut a).categories[f] = 0;
        assert_error(load(&a), "is not categorical");
        gbdt(&mut a).categories[f] = 900;
        assert_error(load(&a), "2 to 255 level codes");
    }
}
