#!/usr/bin/env bash
# `make deploy-check` (part of `make test`, after `make worker`): `wrangler deploy --dry-run` on the
# real wrangler.toml, so a change that would break `wrangler deploy` fails here rather than at the
# team's next deploy. It bundles worker/build/ and static/ into target/deploy-check/ exactly as a
# deploy would, with no account, no login and no network (CI=true: never prompt).
#
# What the dry run cannot see is checked by Cloudflare only at upload (cron syntax, a future
# compatibility date, ids of a KV namespace or D1 database that do not exist in the account).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh

out=target/deploy-check
log=target/deploy-check.log
rm -rf "$out"
mkdir -p "$out"

fail() {
  cat "$log" >&2
  echo "deploy-check: $1" >&2
  exit 1
}

CI=true NO_COLOR=1 FORCE_COLOR=0 wrangler deploy --dry-run --outdir "$out" >"$log" 2>&1 ||
  fail "wrangler deploy --dry-run refused wrangler.toml or the build (its message is above)"

# wrangler only warns about a key it does not know, and then ignores it: a misspelt setting would
# deploy without effect, so a warning fails the check too.
grep -q 'WARNING' "$log" &&
  fail "wrangler warned about the configuration (above); fix wrangler.toml"

# The bindings the worker opens by name (worker/src/store.rs): renamed in wrangler.toml, the
# deploy succeeds and every request needing storage answers 503.
grep -Eq '^env\.MODELS .*KV Namespace' "$log" ||
  fail "wrangler.toml has no KV namespace bound as MODELS (worker/src/store.rs opens env.kv(\"MODELS\"))"
grep -Eq '^env\.EBB .*D1 Database' "$log" ||
  fail "wrangler.toml has no D1 database bound as EBB (worker/src/store.rs opens env.d1(\"EBB\"))"

ls "$out"/*.wasm >/dev/null 2>&1 || fail "the bundle in $out holds no wasm module"
echo "deploy-check: wrangler deploy --dry-run accepts wrangler.toml ($(du -sh "$out" | cut -f1) bundled in $out)"
