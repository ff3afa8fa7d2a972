# Ebb's two entry points: `make run` (demo end to end) and `make test` (everything CI checks).
SHELL := /bin/bash
CARGO ?= cargo
WASM_TARGET := wasm32-unknown-unknown

.PHONY: run test setup fmt-check clippy unit wasm-core bench

## Installs what is missing (idempotent): the wasm target named in rust-toolchain.toml.
setup:
	@rustup target list --installed | grep -qx $(WASM_TARGET) || rustup target add $(WASM_TARGET)

test: setup fmt-check clippy unit wasm-core
	@echo "make test: all checks passed"

fmt-check:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

unit:
	$(CARGO) test --workspace

wasm-core:
	$(CARGO) build -p ebb-core --no-default-features --target $(WASM_TARGET)

run: setup
	$(CARGO) build --release -p ebb-cli
	./target/release/ebb

## Ebb against LightGBM, XGBoost and scikit-learn (slow; not part of `make test`): BENCHMARKS.md.
bench:
	bash bench/run.sh
