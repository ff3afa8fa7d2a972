// The worker of bench/http.sh without `wrangler dev`'s development extras: the same built worker
// (worker/build/index.js + index_bg.wasm, wrangler.toml's bindings, vars and compatibility date,
// secrets from a .dev.vars-style file) in Miniflare -> workerd, with the same local KV and D1
// simulators persisted to the same directory layout as `wrangler dev --persist-to STATE`, but
// without request logging to Node, local observability (a trace of every request written to
// SQLite), the local explorer, the inspector, the dev registry, live reload and wrangler's proxy
// workerd.
//
//   node bench/http/serve.mjs PORT DIRECT_PORT STATE_DIR VARS_FILE [FLAGS]
//
// PORT: Miniflare's entry socket (its entry worker in front of the user worker, as in
// `wrangler dev`). DIRECT_PORT: a socket straight to the user worker (`unsafeDirectSockets`), like
// a production edge calling the worker (0 = none). Prints "ready" once it serves; stops on
// SIGTERM/SIGINT. Run from the repository root (wrangler.toml, node_modules).
//
// FLAGS put one of wrangler dev's extras back, to measure what each costs (bench/http.sh uses
// none): --assets (wrangler.toml's [assets] router in front of the worker), --log-requests (a log
// line per request posted from workerd to Node), --observability (wrangler dev's default local
// trace store), --inspector (the V8 inspector on a random port). --hello serves
// bench/http/hello.mjs, the smallest JavaScript worker, instead of Ebb's: the runtime's floor.
// --build DIR takes index.js and index_bg.wasm from DIR instead of wrangler.toml's build directory.
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.cwd(), "package.json"));
const { Miniflare, Log, LogLevel, convertV4MiniflareOptions } = require("miniflare");
const { unstable_getMiniflareWorkerOptions } = require("wrangler");

const [port, directPort, state, vars, ...flags] = process.argv.slice(2);
if (!vars) {
    console.error("usage: node bench/http/serve.mjs PORT DIRECT_PORT STATE_DIR VARS_FILE [FLAGS]");
    process.exit(2);
}
const { workerOptions, main } = unstable_getMiniflareWorkerOptions("wrangler.toml", undefined, {
    envFiles: [path.resolve(vars)],
});
if (!flags.includes("--assets")) delete workerOptions.assets;
// worker-build's output is two modules: the JS glue and the wasm it imports.
delete workerOptions.modulesRules;
// `--build DIR` serves another build of the same worker (bench/http-ratio.sh compares builds).
const buildFlag = flags.indexOf("--build");
const build = buildFlag >= 0 ? path.resolve(flags[buildFlag + 1]) : path.dirname(path.resolve(main));
const script = flags.includes("--hello")
    ? {
          name: "hello",
          compatibilityDate: workerOptions.compatibilityDate,
          compatibilityFlags: workerOptions.compatibilityFlags,
          modules: true,
          scriptPath: path.resolve("bench/http/hello.mjs"),
      }
    : {
          ...workerOptions,
          name: "ebb",
          modulesRoot: build,
          modules: [
              { type: "ESModule", path: path.join(build, path.basename(main)) },
              { type: "CompiledWasm", path: path.join(build, "index_bg.wasm") },
          ],
      };
const options = convertV4MiniflareOptions({
    ...script,
    host: "127.0.0.1",
    port: Number(port),
    unsafeDirectSockets: Number(directPort) ? [{ host: "127.0.0.1", port: Number(directPort) }] : [],
    // `wrangler dev --persist-to STATE` keeps its simulators' data in STATE/v3.
    resourcePersistencePath: path.resolve(state, "v3"),
    logRequests: flags.includes("--log-requests"),
    log: new Log(flags.includes("--log-requests") ? LogLevel.INFO : LogLevel.WARN),
    unsafeObservability: flags.includes("--observability"),
    unsafeLocalExplorer: false,
    ...(flags.includes("--inspector") ? { inspectorPort: 0, inspectorHost: "127.0.0.1" } : {}),
});
const mf = new Miniflare({ ...options, enableDevRegistry: false });
await mf.ready;
console.log("ready");
let stopping = false;
const stop = async () => {
    if (stopping) return;
    stopping = true;
    await mf.dispose();
    process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
