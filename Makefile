# Ebb's two entry points: `make run` (demo end to end) and `make test` (everything CI checks).
SHELL := /bin/bash
CARGO ?= cargo
WASM_TARGET := wasm32-unknown-unknown
WASI_TARGET := wasm32-wasip1
EBB := ./target/release/ebb
DEMO := demo

.PHONY: run test setup tools fmt-check clippy unit wasm-core wasm-golden build-release bench \
	worker worker-test web web-test demo bench-http bench-web screenshots fuzz deploy-check

## Installs what is missing (idempotent): the wasm targets named in rust-toolchain.toml.
setup:
	@for t in $(WASM_TARGET) $(WASI_TARGET); do \
	  rustup target list --installed | grep -qx $$t || rustup target add $$t; done

## The JavaScript and wasm tooling the edge worker needs, into .tools/ and node_modules/.
tools: setup
	bash scripts/tools.sh

## Fuzzing (not part of `test`): each cargo-fuzz target for FUZZ_SECONDS (default 60) seconds,
## one after another, executions appended to fuzz/runs.tsv (totals in fuzz/README.md). Needs
## nightly; skips, saying so, without it. Installs cargo-fuzz when missing.
FUZZ_SECONDS ?= 60
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/fuzz.sh

## Everything CI checks, in two passes. First the builds and the unit tests, two at a time: each
## has long single-threaded stretches (whole-program LTO of the two wasm apps, wasm-opt, linking,
## test binaries down to one long test), so a second one keeps both cores busy. Then the
## end-to-end tests, one after another, against those builds (their build steps are now no-ops).
test: setup fmt-check
	$(MAKE) -j2 --output-sync=target --no-print-directory clippy web worker unit build-release wasm-golden wasm-core
	$(MAKE) --output-sync=target --no-print-directory worker-test web-test deploy-check
	@echo "make test: all checks passed"

fmt-check:
	$(CARGO) fmt --all -- --check

## The dashboard (ebb-web) only builds for the browser: it is linted for wasm, not natively.
## One run per target: the native run covers core's `parallel` code (the CLI turns it on) and
## the worker end-to-end tests; the wasm run lints the dashboard and the worker together.
clippy:
	$(CARGO) clippy --workspace --exclude ebb-web --all-targets --features ebb-tests/worker-e2e -- -D warnings
	$(CARGO) clippy -p ebb-web -p ebb-worker --target $(WASM_TARGET) -- -D warnings

## ebb-web builds for the browser; its plain-Rust logic (inputs, formats, chart scales) is
## tested natively too, in the unoptimised `web-unit` profile (Cargo.toml says why).
unit:
	$(CARGO) test --workspace --exclude ebb-web
	$(CARGO) test -p ebb-web --lib --profile web-unit

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

## The edge worker: worker/build/ (wasm after wasm-opt, and its JavaScript shim).
worker: tools
	bash scripts/worker.sh build

## The worker against the real runtime: builds it, starts `wrangler dev` on a free port with a
## fresh state directory and exercises every route (tests/tests/worker.rs). Selects the same
## packages as `make unit`, so its dev build of core and dependencies is reused, not rebuilt
## with other features.
worker-test: worker
	$(CARGO) build --release -p ebb-cli
	$(CARGO) test --workspace --exclude ebb-web --features ebb-tests/worker-e2e --test worker -- --nocapture

## The deploy configuration stays valid: `wrangler deploy --dry-run` bundles worker/build/ and
## static/ into target/deploy-check/ as a deploy would, offline, and fails on an error or warning
## in wrangler.toml or a missing MODELS/EBB binding (scripts/deploy-check.sh).
deploy-check: worker
	bash scripts/deploy-check.sh

## The dashboard: static/app/ (wasm for the page and its compute worker, hashed names).
web: tools
	bash scripts/web.sh build

## The dashboard in headless Chromium against the real worker (tests/e2e/run.mjs): the flow from
## upload to evaluation, bad input, screenshots into target/e2e/screenshots/.
web-test: web worker build-release
	source scripts/env.sh && node tests/e2e/run.mjs

## The README's pictures of the dashboard (docs/screenshots/, desktop and phone) of every view, from the browser tests.
screenshots: web worker build-release
	source scripts/env.sh && EBB_DOCS_SCREENSHOTS=docs/screenshots node tests/e2e/run.mjs

## The demo: generate customers, check them, run the pipeline (time-based validation on the
## monthly snapshots), then score everyone with the saved model.
demo: build-release
	@mkdir -p $(DEMO)
	$(EBB) generate --rows 20000 --seed 42 --out $(DEMO)/customers.csv
	$(EBB) validate $(DEMO)/customers.csv --save-schema $(DEMO)/schema.json
	$(EBB) pipeline $(DEMO)/customers.csv --time snapshot_date --runs-dir $(DEMO)/runs
	$(EBB) score $$(ls -d $(DEMO)/runs/*/ | tail -n 1)model.json $(DEMO)/customers.csv --out $(DEMO)/scores.csv
	@echo "demo outputs are in $(DEMO)/"

## Everything: the demo model, published to the local worker serving API + dashboard on
## http://127.0.0.1:8787 until Ctrl-C.
run: demo worker web
	bash scripts/serve.sh $$(ls -d $(DEMO)/runs/*/ | tail -n 1)model.json 8787

## Ebb against LightGBM, XGBoost and scikit-learn (slow; not part of `make test`): BENCHMARKS.md.
bench:
	bash bench/run.sh

## The edge API over HTTP (wrk against wrangler dev) vs FastAPI + uvicorn + LightGBM (slow; not part
## of `make test`): BENCHMARKS.md.
bench-http:
	bash bench/http.sh

## The dashboard in Chromium vs the native CLI on 100k generated customers (first render, parse +
## quality, training): BENCHMARKS.md.
bench-web: web worker build-release
	source scripts/env.sh && node bench/web.mjs
