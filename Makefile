# Ebb's two entry points: `make run` (demo end to end) and `make test` (everything CI checks).
SHELL := /bin/bash
CARGO ?= cargo
WASM_TARGET := wasm32-unknown-unknown
EBB := ./target/release/ebb
DEMO := demo

.PHONY: run test setup fmt-check clippy unit wasm-core build-release

## Installs what is missing (idempotent): the wasm target named in rust-toolchain.toml.
setup:
	@rustup target list --installed | grep -qx $(WASM_TARGET) || rustup target add $(WASM_TARGET)

test: setup fmt-check clippy unit wasm-core
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
