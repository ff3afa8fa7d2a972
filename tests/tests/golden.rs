//! The same seed gives the same model bit for bit: the native build must reproduce the pinned
//! golden report (which `make test` also checks against the WebAssembly build).

#[test]
fn native_build_matches_golden_values() {
    let expected = include_str!("../golden/expected.txt");
    let actual = ebb_tests::golden_report();
    assert_eq!(
        actual, expected,
        "training is no longer bit-for-bit reproducible (or the golden file is stale)"
    );
}
