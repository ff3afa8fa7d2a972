// The load, restart and fault phases of bench/soak.sh against a `wrangler dev` worker started by
// scripts/worker.sh (its process group id in STATE_DIR/wrangler.pid).
//
//   node bench/http/soak.mjs soak    PORT WORK_DIR STATE_DIR SECONDS
//   node bench/http/soak.mjs restart PORT WORK_DIR STATE_DIR SECONDS
//   node bench/http/soak.mjs fault   PORT WORK_DIR STATE_DIR SECONDS
//
// WORK_DIR holds dev.vars (the tokens), bodies.jsonl (one customer per line), batch.json (100
// customers), models/*.json (artifacts the restart phase publishes) and fault.json (written by
// soak.sh before the fault phase: the corrupted version and the one expected to serve instead).
//
// Traffic (CONNECTIONS closed-loop keep-alive connections, each sending its next request when the
// last answer arrived), chosen per request: 60% POST /v1/predict, 20% POST /v1/predict?explain=3,
// 10% POST /v1/predict/batch (100 customers), 8% POST /v1/labels (2 customers), 2% GET
// /v1/monitoring. Any answer other than 2xx is "unexpected" (the phases expect none), except
// while the worker is deliberately down in the restart phase, where refused connections are
// counted on their own.
//
// Output: one markdown row per minute (soak) and a SOAKJSON line with the whole phase's numbers.
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { execFileSync, spawn } from "node:child_process";

const CONNECTIONS = 32;
const [mode, port, work, state, secondsArg] = process.argv.slice(2);
if (!["soak", "restart", "fault"].includes(mode) || !secondsArg) {
    console.error("usage: node bench/http/soak.mjs soak|restart|fault PORT WORK_DIR STATE_DIR SECONDS");
    process.exit(2);
}
const seconds = Number(secondsArg);
const vars = Object.fromEntries(
    fs.readFileSync(path.join(work, "dev.vars"), "utf8").split("\n").filter(Boolean).map((l) => l.split("=")),
);
const bodies = fs.readFileSync(path.join(work, "bodies.jsonl"), "utf8").split("\n").filter(Boolean);
const batch = fs.readFileSync(path.join(work, "batch.json"), "utf8");
const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS + 2 });

/** One request: resolves {status, body, ms}; status 0 when the connection failed. */
function call(method, route, token, body) {
    const sent = performance.now();
    return new Promise((resolve) => {
        const headers = { authorization: `Bearer ${token}` };
        if (body !== undefined) headers["content-type"] = "application/json";
        const request = http.request(
            { host: "127.0.0.1", port, path: route, method, headers, agent, timeout: 30000 },
            (response) => {
                const chunks = [];
                response.on("data", (c) => chunks.push(c));
                response.on("end", () =>
                    resolve({ status: response.statusCode, body: Buffer.concat(chunks).toString(), ms: performance.now() - sent }));
                response.on("error", (e) => resolve({ status: 0, error: e.code ?? e.message, ms: performance.now() - sent }));
            },
        );
        request.on("timeout", () => request.destroy(new Error("timeout")));
        request.on("error", (e) => resolve({ status: 0, error: e.code ?? e.message, ms: performance.now() - sent }));
        request.end(body);
    });
}

// Label posts carry unique customer ids so that every acknowledged label can be looked up again.
let labelSerial = 0;
const ackedLabels = []; // customer ids whose POST /v1/labels answered 2xx
function labelBody() {
    const ids = [0, 1].map(() => `soak-${mode}-${process.pid}-${labelSerial++}`);
    return { ids, body: JSON.stringify({ labels: ids.map((id, k) => ({ customer_id: id, churned: k === 0 })) }) };
}

// EBB_SOAK_MIX narrows the soak to one kind of request (which route holds memory):
// health, predict, explain, batch, labels or monitoring; "mixed" (the default) is the mix above.
const MIXES = { predict: 0, explain: 0.7, batch: 0.85, labels: 0.95, monitoring: 0.99 };
const mix = mode === "soak" ? (process.env.EBB_SOAK_MIX ?? "mixed") : "mixed";
if (mix !== "mixed" && mix !== "health" && !(mix in MIXES)) {
    console.error(`EBB_SOAK_MIX must be mixed, health or one of ${Object.keys(MIXES).join(", ")}; got '${mix}'`);
    process.exit(2);
}

/** One request of the mix; returns {route, status, ms, error}. */
async function mixed(i) {
    if (mix === "health") return { route: "health", ...(await call("GET", "/v1/health")) };
    const r = mix === "mixed" ? Math.random() : MIXES[mix];
    if (mode === "fault" || r < 0.6) {
        const a = await call("POST", "/v1/predict", vars.API_TOKEN, bodies[i % bodies.length]);
        return { route: "predict", ...a };
    }
    if (r < 0.8) {
        const a = await call("POST", "/v1/predict?explain=3", vars.API_TOKEN, bodies[i % bodies.length]);
        return { route: "explain", ...a };
    }
    if (r < 0.9) return { route: "batch", ...(await call("POST", "/v1/predict/batch", vars.API_TOKEN, batch)) };
    if (r < 0.98) {
        const { ids, body } = labelBody();
        const a = await call("POST", "/v1/labels", vars.ADMIN_TOKEN, body);
        if (a.status >= 200 && a.status < 300) ackedLabels.push(...ids);
        return { route: "labels", ...a };
    }
    return { route: "monitoring", ...(await call("GET", "/v1/monitoring", vars.API_TOKEN)) };
}

// Per-window counters (a window is one minute in the soak phase, the whole phase otherwise).
function newWindow() {
    return { requests: 0, latencies: [], unexpected: 0, refused: 0, statuses: {}, byRoute: {}, rss: [], isolate: [], degraded: 0, versions: {} };
}
let win = newWindow();
const windows = [];
let down = false; // the restart phase killed the worker on purpose
const unexpectedSamples = [];

function record(a) {
    win.requests++;
    win.byRoute[a.route] = (win.byRoute[a.route] ?? 0) + 1;
    const key = a.status === 0 ? `error:${a.error}` : String(a.status);
    win.statuses[key] = (win.statuses[key] ?? 0) + 1;
    if (a.status >= 200 && a.status < 300) {
        win.latencies.push(a.ms);
        if (mode === "fault") {
            const b = JSON.parse(a.body);
            if (b.degraded === true) win.degraded++;
            win.versions[b.model_version] = (win.versions[b.model_version] ?? 0) + 1;
        }
    } else if (down && a.status === 0) {
        win.refused++;
    } else {
        win.unexpected++;
        if (unexpectedSamples.length < 5) unexpectedSamples.push(`${a.route} ${key} ${(a.body ?? "").slice(0, 200)}`);
    }
}

/**
 * RSS of this run's workerd processes: those in wrangler dev's process group (it changes on a
 * restart). wrangler dev runs two: a proxy on the public port (its command line names that port
 * as the `entry` socket) and the worker's own, which also runs the local KV and D1 simulators.
 */
function workerdRssMb() {
    let pg;
    try {
        pg = fs.readFileSync(path.join(state, "wrangler.pid"), "utf8").trim();
    } catch {
        return null;
    }
    let pids = [];
    try {
        pids = execFileSync("pgrep", ["-g", pg, "workerd"], { encoding: "utf8" }).split("\n").filter(Boolean);
    } catch {
        return null; // none running (restart in progress)
    }
    const r = { mb: 0, worker_mb: 0, proxy_mb: 0, processes: 0 };
    for (const pid of pids) {
        try {
            const m = fs.readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/);
            const proxy = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(`entry=127.0.0.1:${port}`);
            if (!m) continue;
            const mb = Number(m[1]) / 1024;
            r.mb += mb;
            r[proxy ? "proxy_mb" : "worker_mb"] += mb;
            r.processes++;
        } catch {
            // exited between pgrep and the read
        }
    }
    return r;
}

/** Bytes of the local D1 database files (the prediction log grows with the traffic). */
function d1Mb() {
    let bytes = 0;
    const walk = (dir) => {
        for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
            const p = path.join(dir, e.name);
            if (e.isDirectory()) walk(p);
            else bytes += fs.statSync(p).size;
        }
    };
    try {
        walk(path.join(state, "v3", "d1"));
    } catch {
        return null;
    }
    return bytes / (1024 * 1024);
}

/**
 * The isolate's own memory: its WebAssembly linear memory (`ebb_wasm_memory_bytes` of /metrics)
 * and, when EBB_SOAK_INSPECTOR_PORT names wrangler dev's inspector port, its V8 heap
 * (`Runtime.getHeapUsage` over the DevTools protocol, as a DevTools window attached to the
 * worker would ask). RSS alone cannot tell the isolate from workerd and wrangler's own services.
 */
const inspectorPort = process.env.EBB_SOAK_INSPECTOR_PORT;
let inspector = null;
let cdpId = 0;
const cdpPending = new Map();
async function heapUsage() {
    if (!inspectorPort) return null;
    if (inspector === null || inspector.readyState > 1) {
        // wrangler's inspector proxy refuses clients without a local Origin.
        inspector = new WebSocket(`ws://127.0.0.1:${inspectorPort}/ws`, { headers: { Origin: "http://localhost" } });
        inspector.onmessage = (m) => {
            const d = JSON.parse(m.data);
            cdpPending.get(d.id)?.(d.result ?? null);
            cdpPending.delete(d.id);
        };
        const opened = await new Promise((r) => {
            inspector.onopen = () => r(true);
            inspector.onerror = () => r(false);
        });
        if (!opened) return null;
    }
    const id = ++cdpId;
    const answer = new Promise((r) => {
        cdpPending.set(id, r);
        setTimeout(() => r(null), 4000);
    });
    inspector.send(JSON.stringify({ id, method: "Runtime.getHeapUsage" }));
    const h = await answer;
    cdpPending.delete(id);
    return h ? { used: h.usedSize / 1048576, total: h.totalSize / 1048576 } : null;
}
async function isolateMemory() {
    const metrics = await call("GET", "/metrics", vars.API_TOKEN);
    const wasm = metrics.status === 200 ? metrics.body.match(/^ebb_wasm_memory_bytes (\d+)$/m) : null;
    const heap = await heapUsage();
    return { wasm_mb: wasm ? Number(wasm[1]) / 1048576 : null, heap_used_mb: heap?.used ?? null, heap_total_mb: heap?.total ?? null };
}

/** Least-squares slope of y over x (MB per minute when x is minutes); null with < 2 points. */
function slope(points) {
    const p = points.filter(([, y]) => y !== null && y !== undefined);
    if (p.length < 2) return null;
    const mx = p.reduce((a, [x]) => a + x, 0) / p.length;
    const my = p.reduce((a, [, y]) => a + y, 0) / p.length;
    const sxx = p.reduce((a, [x]) => a + (x - mx) ** 2, 0);
    return sxx ? p.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0) / sxx : null;
}

const quantile = (sorted, q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN);
function summary(w, secs) {
    const s = [...w.latencies].sort((a, b) => a - b);
    const rss = w.rss.map((r) => r.mb);
    const range = (key) => (w.rss.length ? [Math.min(...w.rss.map((r) => r[key])), Math.max(...w.rss.map((r) => r[key]))] : null);
    return {
        requests: w.requests, rps: w.requests / secs, p50_ms: quantile(s, 0.5), p99_ms: quantile(s, 0.99),
        max_ms: s[s.length - 1] ?? NaN, unexpected: w.unexpected, refused: w.refused, statuses: w.statuses,
        by_route: w.byRoute, rss_min_mb: rss.length ? Math.min(...rss) : null, rss_max_mb: rss.length ? Math.max(...rss) : null,
        worker_rss_mb: range("worker_mb"), proxy_rss_mb: range("proxy_mb"), ...isolateRanges(w), d1_mb: d1Mb(), rss_samples: rss.length, workerd_processes: w.rss.length ? w.rss[w.rss.length - 1].processes : null,
        degraded: w.degraded, versions: w.versions, seconds: secs,
    };
}
function isolateRanges(w) {
    const range = (key) => {
        const v = w.isolate.map((r) => r[key]).filter((x) => x !== null);
        return v.length ? [Math.min(...v), Math.max(...v)] : null;
    };
    return { wasm_mb: range("wasm_mb"), heap_used_mb: range("heap_used_mb"), heap_total_mb: range("heap_total_mb") };
}
const mm = (r) => (r ? `${r[0].toFixed(0)}–${r[1].toFixed(0)}` : "–");
const mm1 = (r) => (r ? `${r[0].toFixed(1)}–${r[1].toFixed(1)}` : "–");
const f = (x, d = 1) => (x === null || Number.isNaN(x) ? "–" : x.toFixed(d));

// ---- the phases ----------------------------------------------------------------------------

let stop = false;
let serial = 0;
async function loop() {
    while (!stop) {
        const a = await mixed(serial++);
        record(a);
        if (a.status === 0) await new Promise((r) => setTimeout(r, 50)); // not a busy loop while down
    }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const started = performance.now();
// Every 5 s: RSS of the workerd processes and, in the soak, the isolate's memory; the soak keeps
// the whole timeline for the slopes.
const timeline = [];
async function sample() {
    const r = workerdRssMb();
    if (r) win.rss.push(r);
    if (mode !== "soak") return;
    const m = await isolateMemory();
    win.isolate.push(m);
    timeline.push({ minute: (performance.now() - started) / 60000, worker_mb: r?.worker_mb ?? null, proxy_mb: r?.proxy_mb ?? null, ...m });
}
const rssTimer = setInterval(sample, 5000);
await sample();

if (mode === "soak") {
    console.log("| minute | requests | req/s | p50 ms | p99 ms | max ms | unexpected non-2xx | RSS MB, min–max: both workerd | the worker's workerd | the proxy workerd | D1 files MB | wasm memory MB | V8 heap used MB | V8 heap total MB |");
    console.log("|---:|---:|---:|---:|---:|---:|---:|---|---|---|---:|---|---|---|");
    const workers = Array.from({ length: CONNECTIONS }, loop);
    let windowStart = performance.now();
    for (let minute = 1; performance.now() - started < seconds * 1000; minute++) {
        const left = seconds * 1000 - (performance.now() - started);
        await sleep(Math.min(60000, left));
        await sample();
        const secs = (performance.now() - windowStart) / 1000;
        const s = summary(win, secs);
        windows.push(s);
        console.log(`| ${minute} | ${s.requests} | ${f(s.rps, 0)} | ${f(s.p50_ms)} | ${f(s.p99_ms)} | ${f(s.max_ms)} | ${s.unexpected} | ${f(s.rss_min_mb, 0)}–${f(s.rss_max_mb, 0)} | ${mm(s.worker_rss_mb)} | ${mm(s.proxy_rss_mb)} | ${f(s.d1_mb, 0)} | ${mm1(s.wasm_mb)} | ${mm(s.heap_used_mb)} | ${mm(s.heap_total_mb)} |`);
        win = newWindow();
        windowStart = performance.now();
    }
    stop = true;
    await Promise.all(workers);
    // Whether the memory stays taken once the load stops.
    await sleep(30000);
    const idle = workerdRssMb();
    const idleIsolate = await isolateMemory();
    console.log(`\nAfter 30 s without load: both workerd ${f(idle?.mb, 0)} MB, the worker's ${f(idle?.worker_mb, 0)} MB, the proxy ${f(idle?.proxy_mb, 0)} MB; wasm memory ${f(idleIsolate.wasm_mb)} MB, V8 heap used ${f(idleIsolate.heap_used_mb)} MB of ${f(idleIsolate.heap_total_mb)} MB.`);
    // Growth per minute after the first (warm-up) minute, least squares over the 5 s samples.
    const after = timeline.filter((t) => t.minute >= 1 && t.minute <= seconds / 60);
    const slopes = Object.fromEntries(["worker_mb", "proxy_mb", "wasm_mb", "heap_used_mb", "heap_total_mb"].map((k) => [k, slope(after.map((t) => [t.minute, t[k]]))]));
    console.log(`Slope after the first minute, MB per minute (least squares over ${after.length} samples): the worker's workerd ${f(slopes.worker_mb)}, the proxy workerd ${f(slopes.proxy_mb)}, wasm memory ${f(slopes.wasm_mb, 2)}, V8 heap used ${f(slopes.heap_used_mb, 2)}, V8 heap total ${f(slopes.heap_total_mb, 2)}.`);
    fs.writeFileSync(path.join(work, "memory.tsv"), "minute\tworker_rss_mb\tproxy_rss_mb\twasm_mb\tv8_heap_used_mb\tv8_heap_total_mb\n" +
        timeline.map((t) => [t.minute.toFixed(3), f(t.worker_mb), f(t.proxy_mb), f(t.wasm_mb, 2), f(t.heap_used_mb), f(t.heap_total_mb)].join("\t")).join("\n") + "\n");
    const all = newWindow();
    for (const w of windows) {
        all.requests += w.requests;
        all.unexpected += w.unexpected;
        for (const [k, v] of Object.entries(w.by_route)) all.byRoute[k] = (all.byRoute[k] ?? 0) + v;
        for (const [k, v] of Object.entries(w.statuses)) all.statuses[k] = (all.statuses[k] ?? 0) + v;
    }
    console.log("SOAKJSON " + JSON.stringify({ windows, requests: all.requests, unexpected: all.unexpected, by_route: all.byRoute,
        statuses: all.statuses, idle_rss: idle, idle_isolate: idleIsolate, slopes, acked_labels: ackedLabels.length, unexpected_samples: unexpectedSamples }));
} else if (mode === "restart") {
    // Admin changes on one more connection: publish each artifact of WORK_DIR/models, then keep
    // activating published versions; every 2xx is an acknowledged change to find afterwards.
    const models = fs.readdirSync(path.join(work, "models")).filter((n) => n.endsWith(".json")).sort()
        .map((n) => fs.readFileSync(path.join(work, "models", n), "utf8"));
    const ackedPublishes = [];
    const ackedActivations = []; // {version, at_ms}
    const admin = async () => {
        let k = 0;
        while (!stop) {
            let a;
            if (k < models.length) {
                const id = JSON.parse(models[k]).model_id;
                a = await call("PUT", `/v1/models/${id}`, vars.ADMIN_TOKEN, models[k]);
                if (a.status >= 200 && a.status < 300) {
                    ackedPublishes.push(id);
                    k++;
                }
                a.route = "publish";
            } else {
                const id = ackedPublishes[Math.floor(Math.random() * ackedPublishes.length)];
                a = await call("POST", `/v1/models/${id}/activate`, vars.ADMIN_TOKEN);
                if (a.status >= 200 && a.status < 300) ackedActivations.push(JSON.parse(a.body));
                a.route = "activate";
            }
            record(a);
            await sleep(a.status === 0 ? 50 : 250);
        }
    };
    const workers = [...Array.from({ length: CONNECTIONS }, loop), admin()];
    // Kill in the middle of the phase: before it, load and admin changes; after it, the same.
    await sleep((seconds * 1000) / 2);
    const before = { labels: ackedLabels.length, publishes: ackedPublishes.length, activations: ackedActivations.length, requests: win.requests };
    const pg = fs.readFileSync(path.join(state, "wrangler.pid"), "utf8").trim();
    down = true;
    const killedAt = performance.now();
    process.kill(-Number(pg), "SIGKILL");
    // Wait for the whole group to be gone, then start again on the same state directory.
    for (let i = 0; i < 100; i++) {
        try {
            process.kill(-Number(pg), 0);
        } catch {
            break;
        }
        await sleep(50);
    }
    const child = spawn("bash", ["scripts/worker.sh", "start", port, state], { stdio: ["ignore", "inherit", "inherit"] });
    const code = await new Promise((r) => child.on("exit", r));
    if (code !== 0) {
        console.error(`restart: scripts/worker.sh start exited with ${code}`);
        process.exit(1);
    }
    // Down until the first prediction is answered again.
    while ((await call("POST", "/v1/predict", vars.API_TOKEN, bodies[0])).status !== 200) await sleep(20);
    const downMs = performance.now() - killedAt;
    down = false;
    await sleep((seconds * 1000) / 2);
    stop = true;
    await Promise.all(workers);
    const after = summary(win, (performance.now() - started) / 1000);

    // Every acknowledged change, looked up: labels by deleting each customer (the API says how
    // many labels it removed), registry changes in GET /v1/models.
    let labelsFound = 0;
    const missingLabels = [];
    for (let i = 0; i < ackedLabels.length; i += 16) {
        const chunk = ackedLabels.slice(i, i + 16);
        const answers = await Promise.all(chunk.map((id) => call("DELETE", `/v1/customers/${id}`, vars.ADMIN_TOKEN)));
        answers.forEach((a, j) => {
            if (a.status === 200 && JSON.parse(a.body).deleted_labels === 1) labelsFound++;
            else missingLabels.push(`${chunk[j]}: ${a.status} ${a.body ?? a.error}`);
        });
    }
    const listing = JSON.parse((await call("GET", "/v1/models", vars.API_TOKEN)).body);
    const registered = new Set(listing.models.map((m) => m.version));
    const history = new Set(listing.history.map((h) => `${h.version}@${h.at_ms}`));
    const publishesFound = ackedPublishes.filter((v) => registered.has(v)).length;
    const activationsFound = ackedActivations.filter((a) => history.has(`${a.version}@${a.at_ms}`)).length;
    const lastAck = ackedActivations[ackedActivations.length - 1];
    console.log("SOAKJSON " + JSON.stringify({
        ...after, before_kill: before, down_ms: downMs,
        labels: { acked: ackedLabels.length, found: labelsFound, missing: missingLabels.slice(0, 5) },
        publishes: { acked: ackedPublishes.length, found: publishesFound },
        activations: { acked: ackedActivations.length, found: activationsFound, history_kept: listing.history.length },
        active_is_last_acked: lastAck ? listing.active === lastAck.version : null,
        unexpected_samples: unexpectedSamples,
    }));
} else {
    // fault: the active version's artifact was corrupted in storage (soak.sh); predictions only.
    const fault = JSON.parse(fs.readFileSync(path.join(work, "fault.json"), "utf8"));
    const health = JSON.parse((await call("GET", "/v1/health")).body);
    const workers = Array.from({ length: CONNECTIONS }, loop);
    await sleep(seconds * 1000);
    stop = true;
    await Promise.all(workers);
    const s = summary(win, seconds);
    const fivexx = Object.entries(s.statuses).filter(([k]) => k.startsWith("5")).reduce((n, [, v]) => n + v, 0);
    console.log("SOAKJSON " + JSON.stringify({ ...s, fivexx, corrupted: fault.corrupted, expected: fault.expected,
        served_by_expected: s.versions[fault.expected] ?? 0, health_status: health.status, health, unexpected_samples: unexpectedSamples }));
}
clearInterval(rssTimer);
agent.destroy();
// The inspector's WebSocket would keep Node waiting for a closing handshake wrangler's proxy does
// not always answer; stdout is a file or pipe, written synchronously on Linux.
process.exit(0);
