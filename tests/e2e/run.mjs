// Browser tests of the dashboard (`make web-test`): one real edge worker (wrangler dev, serving
// static/app/ and the API on 127.0.0.1) and one headless Chromium for all specs. Each spec gets
// a fresh page and fails on any console error, uncaught exception or request to another host.
//
//   node tests/e2e/run.mjs            # after `make web worker build-release`
//   EBB_CHURN_CSV=path  EBB_CHROMIUM=/usr/bin/chromium  EBB_E2E_OUT=target/e2e
//   EBB_E2E_SPECS=flow,cancel   # only the specs whose file names are listed (default: all)
//   EBB_DOCS_SCREENSHOTS=docs/screenshots   # also the README's one-screen pictures of every view
// A spec gets `page` (and its `context`), `stopServer` (offline.mjs: specs exporting
// `stopsServer` run last) and the helpers below.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { chromium } from 'playwright-core';
import * as flow from './specs/flow.mjs';
import * as badInput from './specs/bad-input.mjs';
import * as cancel from './specs/cancel.mjs';
import * as crash from './specs/crash.mjs';
import * as models from './specs/models.mjs';
import * as trainSettings from './specs/train-settings.mjs';
import * as drift from './specs/drift.mjs';
import * as whatif from './specs/whatif.mjs';
import * as offline from './specs/offline.mjs';
import * as monitor from './specs/monitor.mjs';
import * as explain from './specs/explain.mjs';
import * as groups from './specs/groups.mjs';

const allSpecs = { flow, 'bad-input': badInput, cancel, crash, models, 'train-settings': trainSettings, drift, whatif, offline, explain, monitor, groups };
const only = process.env.EBB_E2E_SPECS?.split(',').map((s) => s.trim()).filter(Boolean);
for (const name of only ?? []) {
  if (!(name in allSpecs)) throw new Error(`EBB_E2E_SPECS: no spec ${name} (known: ${Object.keys(allSpecs).join(', ')})`);
}
// A spec that stops the shared server (offline.mjs) runs after all the others.
const specs = Object.entries(allSpecs).filter(([name]) => !only || only.includes(name)).map(([, spec]) => spec)
  .sort((a, b) => Number(Boolean(a.stopsServer)) - Number(Boolean(b.stopsServer)));
const root = resolve(import.meta.dirname, '../..');
process.chdir(root);
const chromiumPath = process.env.EBB_CHROMIUM ?? '/usr/bin/chromium';
const churnCsv = resolve(process.env.EBB_CHURN_CSV ?? '../shared/data/mlc_churn.csv');
const out = resolve(process.env.EBB_E2E_OUT ?? 'target/e2e');
// `make screenshots` sets this to docs/screenshots to refresh the README's pictures.
const docs = process.env.EBB_DOCS_SCREENSHOTS ? resolve(process.env.EBB_DOCS_SCREENSHOTS) : null;
if (docs) mkdirSync(docs, { recursive: true });
// Pictures of error states and of a view's less usual states stay in the test output; for the
// others the last spec to show a view wins (specs run with more on screen later: the monitor
// spec's Service view has an edge connected).
const notForDocs = ['bad-input', 'offline', 'whatif-blank'];
const sizes = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } };

if (!existsSync(chromiumPath)) {
  console.log(`web-test: SKIPPED: no Chromium at ${chromiumPath} (scripts/tools.sh installs Debian's chromium as root)`);
  process.exit(0);
}
for (const needed of ['static/app/index.html', 'worker/build/index.js', 'target/release/ebb', churnCsv]) {
  if (!existsSync(needed)) throw new Error(`${needed} is missing: run make web worker build-release first`);
}

function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => ok(port));
    }).on('error', fail);
  });
}

/** `ebb train --json` on the churn file with the page's settings (cached per settings): its
 * summary, and `modelPath`, the model it wrote. */
const trained = new Map();
function cliTrain({ families, folds, seed }) {
  const key = JSON.stringify([families, folds, seed]);
  if (!trained.has(key)) {
    const model = join(work, `cli-${trained.size}.json`);
    const args = ['train', churnCsv, '--model', families.join(','), '--folds', String(folds),
      '--seed', String(seed), '--json', '--out', model];
    const summary = JSON.parse(execFileSync('./target/release/ebb', args, { encoding: 'utf8' }));
    trained.set(key, { ...summary, modelPath: model });
  }
  return trained.get(key);
}

/** `ebb decide MODEL <churn file> --json` with `flags`: its JSON and the contact list it wrote. */
let decided = 0;
function cliDecide(model, flags) {
  const csv = join(work, `contacts-${decided++}.csv`);
  const args = ['decide', model, churnCsv, '--out', csv, '--json', ...flags];
  const json = JSON.parse(execFileSync('./target/release/ebb', args, { encoding: 'utf8' }));
  return { json, csv: readFileSync(csv, 'utf8') };
}

const work = mkdtempSync(join(tmpdir(), 'ebb-e2e-'));
const state = join(work, 'state');
mkdirSync(state);
mkdirSync(join(out, 'screenshots'), { recursive: true });
const vars = join(work, 'dev.vars');
// METRICS_TOKEN set, so app-info withholds the model's details until the Service view is given it.
const tokens = Object.fromEntries(['api', 'admin', 'metrics'].map((k) => [k, randomBytes(24).toString('hex')]));
writeFileSync(vars, `API_TOKEN=${tokens.api}\nADMIN_TOKEN=${tokens.admin}\nMETRICS_TOKEN=${tokens.metrics}\n`);
const port = await freePort();
const baseUrl = `http://127.0.0.1:${port}`;

let context;
let failed = 0;
/** Stops the shared server (the offline spec's "no network"); the `finally` below tolerates it. */
const stopServer = () => execFileSync('bash', ['scripts/worker.sh', 'stop', state], { stdio: 'inherit' });
/** A persistent Chromium context. Service workers are blocked unless `serviceWorkers` is
 * 'allow': Playwright's routes (crash.mjs) do not see what a service worker answers from its
 * cache, so only a spec about offline use (in a context of its own) lets the dashboard's run. */
const launch = (profile, serviceWorkers = 'block') => chromium.launchPersistentContext(join(work, profile), {
  executablePath: chromiumPath,
  headless: true,
  viewport: sizes.desktop,
  serviceWorkers,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});
try {
  execFileSync('bash', ['scripts/worker.sh', 'start', String(port), state], {
    stdio: 'inherit', env: { ...process.env, EBB_DEV_VARS: vars },
  });
  context = await launch('profile');
  for (const spec of specs) {
    const problems = [];
    const own = spec.serviceWorkers === 'allow' ? await launch(`profile-${spec.name.split(':')[0]}`, 'allow') : null;
    const specContext = own ?? context;
    const page = await specContext.newPage();
    await page.setViewportSize(sizes.desktop);
    // Chromium logs every 4xx answer to fetch as a console error; a spec that provokes one on
    // purpose (a wrong token) says so, and each allowance covers exactly one such error.
    const allowed = [];
    const allowConsoleError = (pattern, why) => allowed.push({ pattern, why });
    const watchConsole = (where) => (msg) => {
      if (msg.type() !== 'error') return;
      const text = `${msg.text()} (${msg.location().url})`;
      const i = allowed.findIndex((a) => a.pattern.test(text));
      if (i >= 0) allowed.splice(i, 1);
      else problems.push(`console error in ${where}: ${text}`);
    };
    page.on('console', watchConsole('page'));
    page.on('pageerror', (e) => problems.push(`uncaught in page: ${e.message}`));
    page.on('worker', (w) => w.on('console', watchConsole('worker')));
    const onRequest = (request) => {
      const url = new URL(request.url());
      if (['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol) && url.hostname !== '127.0.0.1') {
        problems.push(`request left 127.0.0.1: ${request.url()}`);
      }
    };
    specContext.on('request', onRequest);
    const screenshots = async (app, views, prefix = spec.name.split(':')[0]) => {
      for (const [size, viewport] of Object.entries(sizes)) {
        await page.setViewportSize(viewport);
        for (const view of views) {
          await app.show(view);
          await page.screenshot({ path: join(out, 'screenshots', `${prefix}-${view}-${size}.png`), fullPage: true });
          // The README's pictures: what the flow's user sees on opening each view (one screen),
          // and the What-if view with a customer edited.
          if (docs && !notForDocs.includes(prefix)) {
            await page.screenshot({ path: join(docs, `${view}-${size}.png`) });
          }
        }
      }
      await page.setViewportSize(sizes.desktop);
    };
    const started = Date.now();
    try {
      await spec.run({ page, context: specContext, baseUrl, churnCsv, cliTrain, cliDecide, screenshots, tokens,
        work, allowConsoleError, stopServer });
      for (const a of allowed) problems.push(`expected console error did not occur: ${a.why}`);
    } catch (e) {
      problems.push(e.stack ?? String(e));
      await page.screenshot({ path: join(out, `failed-${spec.name.split(':')[0]}.png`), fullPage: true }).catch(() => {});
    }
    specContext.off('request', onRequest);
    await page.close();
    await own?.close();
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (problems.length) {
      failed++;
      console.log(`FAIL ${spec.name} (${seconds} s)\n  ${problems.join('\n  ')}`);
    } else {
      console.log(`ok   ${spec.name} (${seconds} s)`);
    }
  }
} finally {
  await context?.close();
  execFileSync('bash', ['scripts/worker.sh', 'stop', state], { stdio: 'inherit' });
  if (failed) console.log(`wrangler log: ${join(state, 'wrangler.log')}`);
  else rmSync(work, { recursive: true, force: true });
}
console.log(`web-test: ${specs.length - failed} of ${specs.length} specs passed; screenshots in ${join(out, 'screenshots')}`);
process.exit(failed ? 1 : 0);
