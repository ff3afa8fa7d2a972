//! Helpers shared by the `ebb` end-to-end tests: run the binary, read its output, make files.
// Each test file compiles this module on its own and uses a different subset of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `ebb` with a fixed `SOURCE_DATE_EPOCH`, so artifacts are reproducible.
pub fn ebb(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ebb"))
        .args(args)
        .env("SOURCE_DATE_EPOCH", "1767225600")
        .output()
        .expect("the ebb binary runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The one JSON object a successful `--json` run prints.
pub fn json(o: &Output) -> serde_json::Value {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status,
        stdout(o),
        stderr(o)
    );
    serde_json::from_str(stdout(o).trim())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(o)))
}

/// Asserts that `ebb args` exits with `code` and says `needle` on stderr.
pub fn fails_with(args: &[&str], code: i32, needle: &str) {
    let o = ebb(args);
    assert_eq!(
        o.status.code(),
        Some(code),
        "args {args:?}\nstdout: {}\nstderr: {}",
        stdout(&o),
        stderr(&o)
    );
    assert!(
        stderr(&o).contains(needle),
        "expected `{needle}` in stderr: {}",
        stderr(&o)
    );
}

/// `../shared/data/mlc_churn.csv` relative to the repository root, or `$EBB_CHURN_CSV` when
/// set (a git worktree has no `../shared` beside it; the browser tests and benchmarks read the
/// same variable).
pub fn mlc_churn() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let path = std::env::var_os("EBB_CHURN_CSV")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared/data/mlc_churn.csv"));
    assert!(
        path.exists(),
        "{} is missing: CI runs with ../shared beside the repo",
        path.display()
    );
    path
}

/// A fresh, empty temporary folder for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ebb-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

/// `dir/name` as a string.
pub fn path(dir: &Path, name: &str) -> String {
    dir.join(name).to_string_lossy().into_owned()
}
