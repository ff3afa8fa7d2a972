# Ebb's two entry points: `make run` (demo end to end) and `make test` (everything CI checks).
SHELL := /bin/bash
CARGO ?= cargo
WASM_TARGET := wasm32-unknown-unknown
WASI_TARGET := wasm32-wasip1
EBB := ./target/release/ebb
DEMO := demo

.PHONY: run test setup fmt-check clippy unit wasm-core wasm-golden build-release bench

## Installs what is missing (idempotent): the wasm targets named in rust-toolchain.toml.
setup:
	@for t in $(WASM_TARGET) $(WASI_TARGET); do \
	  rustup target list --installed | grep -qx $$t || rustup target add $$t; done

test: setup fmt-check clippy unit wasm-core wasm-golden
	@echo "make test: all checks passed"

fmt-check:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy -p ebb-core --all-targets --features parallel -- -D warnings

unit:
	$(CARGO) test --workspace

wasm-core:
	$(CARGO) build -p ebb-core --no-default-features --target $(WASM_TARGET)

## Same seed, same model, bit for bit: the golden program built as WebAssembly (run by Node's
## WASI) must print exactly the golden file the native test also checks.
wasm-golden:
	$(CARGO) build --release --target $(WASI_TARGET) -p ebb-tests --bin ebb-golden
	node --no-warnings tests/golden/run-wasi.mjs target/$(WASI_TARGET)/release/ebb-golden.wasm \
	  | diff - tests/golden/expected.txt
	@echo "wasm golden values match the native ones"

build-release: setup
	$(CARGO) build --release -p ebb-cli

## The demo: generate customers, check them, run the pipeline (time-based validation on the
## monthly snapshots), then score everyone with the saved model.
run: build-release
	@mkdir -p $(DEMO)
	$(EBB) generate --rows 20000 --seed 42 --out $(DEMO)/customers.csv
	$(EBB) validate $(DEMO)/customers.csv --save-schema $(DEMO)/schema.json
	$(EBB) pipeline $(DEMO)/customers.csv --time snapshot_date --runs-dir $(DEMO)/runs
	$(EBB) score $$(ls -d $(DEMO)/runs/*/ | tail -n 1)model.json $(DEMO)/customers.csv --out $(DEMO)/scores.csv
	@echo "demo outputs are in $(DEMO)/"

## Ebb against LightGBM, XGBoost and scikit-learn (slow; not part of `make test`): BENCHMARKS.md.
bench:
	bash bench/run.sh
