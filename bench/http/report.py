"""Renders bench/http.sh's measurements as one markdown report.

  python report.py RESULTS.jsonl FACTS.json [PAUSES.jsonl] > http.md

RESULTS.jsonl: one JSON object per wrk run ({"name", "connections", "load1", ...the WRKJSON
fields of wrk.lua}); FACTS.json: everything else bench/http.sh measured (tree counts, batch
timings, cold start, wasm size, machine); PAUSES.jsonl: one line per pauses.mjs run (latency
without wrk's coordinated-omission correction).
"""

import json
import sys


def ms(us: float) -> str:
    return f"{us / 1000:.2f}"


def main() -> None:
    runs = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    facts = json.load(open(sys.argv[2]))
    for r in runs:
        r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
        r["bad"] = r["errors_status"] + r["errors_connect"] + r["errors_read"] + r["errors_write"] + r["errors_timeout"]
    out = []
    w = out.append
    w("## Edge API over HTTP: Ebb worker vs FastAPI + LightGBM\n")
    w(f"`{facts['command']}` at `{facts['commit']}`; {facts['machine']}.\n")
    w(f"Data: `ebb generate --rows {facts['rows']} --seed 42`. Ebb: `{facts['ebb_train']}` -> "
      f"**{facts['ebb_trees']} trees** ({facts['ebb_model_bytes']:,} bytes of model JSON), published "
      f"to `wrangler dev` (workerd {facts['workerd']}) and activated. Baseline: FastAPI "
      f"{facts['fastapi']} on uvicorn {facts['uvicorn']} (1 worker, uvloop + httptools), LightGBM "
      f"{facts['lightgbm']}, **{facts['lgbm_trees']} trees** / 31 leaves on the same CSV.\n")
    w(f"wrk {facts['wrk_threads']} thread(s), {facts['seconds']} s per run after a {facts['warmup']} s "
      f"warm-up, one real customer per request (cycling through {facts['bodies']} customers), "
      "`Authorization: Bearer` on every request. Latency in ms.\n")
    w("| endpoint | connections | requests/s | p50 | p90 | p99 | max | errors | load (1 min) |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in runs:
        w(f"| {r['name']} | {r['connections']} | {r['rps']:,.0f} | {ms(r['p50_us'])} | {ms(r['p90_us'])} | "
          f"{ms(r['p99_us'])} | {ms(r['max_us'])} | {r['bad']} | {r['load1']} |")
    w("")
    by = {(r["key"], r["connections"]): r for r in runs}
    baselines = (("baseline", "baseline"), ("baseline_pandas", "pandas-per-request baseline"))
    lines = []
    for c in sorted({r["connections"] for r in runs}):
        for base_key, base_name in baselines:
            base = by.get((base_key, c))
            for key in ("worker", "worker_explain", "workerd", "prod", "prod_explain", "floor_js"):
                r = by.get((key, c))
                if r and base:
                    lines.append(f"{r['name']} / {base_name} at {c} connections: "
                                 f"**{r['rps'] / base['rps']:.1f}x** requests/s, p99 {ms(r['p99_us'])} vs {ms(base['p99_us'])} ms")
    if lines:
        w("Ratios:\n")
        w("\n".join(f"- {l}" for l in lines))
        w("")
    b = facts["batch"]
    w("Other measurements:\n")
    w(f"- **In-worker compute**: `POST /v1/predict/batch` with {b['customers']:,} customers "
      f"({b['bytes']:,} bytes), {b['runs']} runs timed by curl on loopback: median {b['median_ms']:.1f} ms "
      f"(min {b['min_ms']:.1f}, max {b['max_ms']:.1f}) -> **{b['us_per_customer']:.0f} µs per customer**, an "
      "upper bound: it includes wrangler's proxy, JSON parsing of the request and serialising of the answer "
      "(the Workers clock does not advance during compute, so the worker cannot time itself).")
    if "batch_explain" in facts:
        e = facts["batch_explain"]
        w(f"  With `?explain=3`: median {e['median_ms']:.1f} ms -> {e['us_per_customer']:.0f} µs per customer "
          f"({e['runs']} runs).")
    if "baseline_batch" in facts:
        e = facts["baseline_batch"]
        w(f"  For scale, the baseline's LightGBM + feature code in-process on the same {e['customers']:,} "
          f"customers one at a time: {e['us_per_customer']:.0f} µs per customer (no HTTP).")
    c = facts["cold"]
    w(f"- **Cold start** (fresh state directory): `scripts/worker.sh start` invoked -> first 200 from "
      f"`/v1/app-info` in **{c['seconds']:.1f} s** (of which D1 migrations + wrangler/workerd start-up; "
      f"worker.sh polls every 0.2 s). First `/v1/predict` after `ebb publish --activate` "
      f"(activation already parsed the model in this isolate): {c['first_predict_ms']:.1f} ms; later ones: median {c['warm_predict_ms']:.1f} ms (curl, sequential).")
    w(f"- **Worker size**: `worker/build/index_bg.wasm` {facts['wasm_bytes']:,} bytes raw, "
      f"{facts['wasm_gzip']:,} gzipped (`gzip -9`).")
    floor, floor_d = by.get(("floor", 2)), by.get(("floor_direct", 2))
    if facts.get("direct_port"):
        parts = []
        for c in sorted({r["connections"] for r in runs}):
            a, d = by.get(("worker", c)), by.get(("workerd", c))
            if a and d:
                parts.append(f"{c} connections: {d['rps']:,.0f} vs {a['rps']:,.0f} requests/s, p99 "
                             f"{ms(d['p99_us'])} vs {ms(a['p99_us'])} ms")
        note = ("yes, it adds overhead: `wrangler dev` answers on its port with a proxy workerd that forwards to the "
                f"worker's own workerd (entry socket found on port {facts['direct_port']} from wrangler's process "
                "group with `ss`); `POST /v1/predict` straight at that port vs through the proxy: " + "; ".join(parts) + ".")
        if floor and floor_d:
            note += (f" The floor (`GET /v1/openapi.yaml`, a constant: no KV, no model, no D1) at 2 connections: "
                     f"{floor['rps']:,.0f} requests/s through the proxy, {floor_d['rps']:,.0f} direct.")
        if facts.get("direct_batch_ms"):
            note += f" Batch of 1,000 direct: median {float(facts['direct_batch_ms']):.1f} ms."
    else:
        note = "`wrangler dev` runs a proxy workerd in front of the worker's; its own port was not found, so only proxied numbers."
        if floor:
            note += f" Floor (`GET /v1/openapi.yaml`, a constant) at 2 connections: {floor['rps']:,.0f} requests/s."
    w(f"- **wrangler dev's proxy**: {note}")
    fp, fe = by.get(("floor_prod", 2)), by.get(("floor_entry", 2))
    if fp:
        note = ("the same worker build, wrangler.toml bindings/vars, secrets and local KV/D1 state, run by "
                "`bench/http/serve.mjs` (Miniflare -> workerd) on a socket straight to the worker: no local "
                "observability traces (wrangler dev writes one per request to SQLite), no per-request log to Node, "
                "no proxy workerd, no entry worker, no assets router, no inspector. ")
        note += f"Floor (`GET /v1/openapi.yaml`) at 2 connections: {fp['rps']:,.0f} requests/s"
        if fe:
            note += f" ({fe['rps']:,.0f} through Miniflare's entry worker on the same instance)"
        if floor:
            note += f", vs {floor['rps']:,.0f} through `wrangler dev`"
        note += "."
        if facts.get("prod_batch_ms"):
            note += f" Batch of 1,000: median {float(facts['prod_batch_ms']):.1f} ms."
        w(f"- **Production-like**: {note}")
    pauses = [json.loads(line) for line in open(sys.argv[3]) if line.strip()] if len(sys.argv) > 3 else []
    if pauses:
        w("")
        w("Latency without wrk's correction (`bench/http/pauses.mjs`: one keep-alive connection, the next "
          "request sent when the last answer arrived, each request's own time; wrk instead counts the requests "
          "an open-loop client would have queued behind a slow one). Latency in ms:\n")
        w("| endpoint | requests | p50 | p99 | p99.9 | max | requests over 10 ms (at s into the run: ms) |")
        w("|---|---:|---:|---:|---:|---:|---|")
        for p in pauses:
            where = ", ".join(f"{at / 1000:.1f}: {took:.0f}" for at, took in p["pauses"][:8])
            w(f"| {p['name']} | {p['requests']:,} | {ms(p['p50_us'])} | {ms(p['p99_us'])} | {ms(p['p999_us'])} | "
              f"{ms(p['max_us'])} | {p['over_10ms']}{' (' + where + ')' if where else ''} |")
    w("")
    w("Targets (product spec: the worker at >= 5x the baseline's requests/s, p99 < 10 ms at 32 connections):\n")
    for key, setup in (("worker", "`wrangler dev`"), ("prod", "production-like workerd"),
                       ("floor_js", "the smallest JavaScript worker on the same workerd")):
        for c in sorted({r["connections"] for r in runs}):
            for base_key, base_name in baselines:
                base, r = by.get((base_key, c)), by.get((key, c))
                if base and r:
                    ratio = r["rps"] / base["rps"]
                    w(f"- {setup}, {c} connections: {ratio:.1f}x the {base_name}'s requests/s -> "
                      f"{'**met**' if ratio >= 5 else '**not met**'}")
        r = by.get((key, 32))
        if r:
            p99 = r["p99_us"] / 1000
            w(f"- {setup}, p99 at 32 connections: {p99:.1f} ms -> {'**met**' if p99 < 10 else '**not met**'}")
    w("")
    print("\n".join(out))


if __name__ == "__main__":
    main()
