//! Prints the golden report (see `ebb_tests::golden_report`); `make test` runs it as
//! WebAssembly (wasm32-wasip1 under Node's WASI) and compares with the native golden file.
fn main() {
    print!("{}", ebb_tests::golden_report());
}
