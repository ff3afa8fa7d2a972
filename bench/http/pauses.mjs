// Latency without wrk's coordinated-omission correction, for bench/http.sh: one keep-alive
// connection sends the next request when the last answer arrived (a closed loop) and records
// each request's own latency. wrk instead adds, for every slow request, the requests an
// open-loop client would have queued behind it, so one 250 ms pause of the runtime becomes
// hundreds of slow samples in its p99. Both views are reported.
//
//   node bench/http/pauses.mjs URL SECONDS [BODIES_JSONL] [TOKEN]
//
// POSTs the bodies (one JSON object per line, cycled) when BODIES_JSONL is given, else GETs.
// Prints one line: PAUSESJSON {"requests", "p50_us", "p99_us", "p999_us", "max_us",
// "over_10ms", "pauses"} where "pauses" lists [ms into the run, ms] of requests over 10 ms.
import fs from "node:fs";
import http from "node:http";

const [url, seconds, bodiesFile, token] = process.argv.slice(2);
const target = new URL(url);
const bodies = bodiesFile ? fs.readFileSync(bodiesFile, "utf8").split("\n").filter(Boolean) : [];
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const headers = token ? { authorization: `Bearer ${token}` } : {};
if (bodies.length) headers["content-type"] = "application/json";

function once(body) {
    return new Promise((resolve, reject) => {
        const request = http.request(
            { host: target.hostname, port: target.port, path: target.pathname + target.search,
              method: body === undefined ? "GET" : "POST", headers, agent },
            (response) => {
                response.resume();
                response.on("end", () => (response.statusCode < 400 ? resolve() : reject(new Error(`HTTP ${response.statusCode}`))));
            },
        );
        request.on("error", reject);
        request.end(body);
    });
}

const latencies = [];
const pauses = [];
const start = performance.now();
const end = start + Number(seconds) * 1000;
for (let i = 0; performance.now() < end; i++) {
    const sent = performance.now();
    await once(bodies.length ? bodies[i % bodies.length] : undefined);
    const ms = performance.now() - sent;
    latencies.push(ms);
    if (ms > 10) pauses.push([Math.round(sent - start), Math.round(ms * 10) / 10]);
}
agent.destroy();
latencies.sort((a, b) => a - b);
const at = (q) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] * 1000);
console.log("PAUSESJSON " + JSON.stringify({
    requests: latencies.length, p50_us: at(0.5), p99_us: at(0.99), p999_us: at(0.999),
    max_us: Math.round(latencies[latencies.length - 1] * 1000), over_10ms: pauses.length, pauses: pauses.slice(0, 20),
}));
