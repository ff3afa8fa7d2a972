//! `ebb`: the command-line face of Ebb.
fn main() {
    println!("ebb {}", env!("CARGO_PKG_VERSION"));
}
