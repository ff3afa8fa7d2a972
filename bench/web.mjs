// The dashboard's speed in Chromium next to the native CLI on the same file and settings
// (`make bench-web`, after `make web worker build-release`). Prints a Markdown table.
//
//   node bench/web.mjs [--rows 100000] [--seed 7] [--folds 3] [--repeats 3]
//
// Steps, each timed from the user's action to the answer on the page (file read, transfer to
// the worker, the core call and the render), the median of --repeats:
// - first render: `goto` until the navigation is on screen;
// - parse + quality: choosing the CSV until the Data view's summary shows its row count;
//   native: `ebb validate FILE` (the same prepare call, plus process start and printing);
// - train: Train until the leaderboard shows (gbdt, --folds, seed 42); native: `ebb train FILE
//   --model gbdt` on one thread (RAYON_NUM_THREADS=1), as the browser's worker has one.
// - threshold move: the Evaluate slider moved to a new value until precision and recall at it
//   are on screen (page -> worker -> core's ThresholdIndex -> page), over the out-of-fold
//   probabilities of every customer; the median of 9 moves per repeat.
// - fairness by region, segments (k chosen by silhouette, value 600) and the model report by
//   region: the button until the table, the persona cards or the downloaded file; native:
//   `ebb fairness|segment|report MODEL FILE` with the model `ebb train` wrote (the same model:
//   same data, settings and seed), on one thread.
// The ROC-AUC of both is printed too: they must be the same number.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { chromium } from 'playwright-core';
import { App } from '../tests/e2e/pages/app.mjs';
import { DataPage } from '../tests/e2e/pages/data.mjs';
import { TrainPage } from '../tests/e2e/pages/train.mjs';
import { EvaluatePage } from '../tests/e2e/pages/evaluate.mjs';
import { FairnessPage } from '../tests/e2e/pages/fairness.mjs';
import { SegmentsPage } from '../tests/e2e/pages/segments.mjs';

const root = resolve(import.meta.dirname, '..');
process.chdir(root);
const flag = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const rows = flag('rows', 100_000);
const seed = flag('seed', 7);
const folds = flag('folds', 3);
const repeats = flag('repeats', 3);
const ebb = './target/release/ebb';
const chromiumPath = process.env.EBB_CHROMIUM ?? '/usr/bin/chromium';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const seconds = (started) => Number(process.hrtime.bigint() - started) / 1e9;
const freePort = () => new Promise((ok, fail) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const { port } = server.address();
    server.close(() => ok(port));
  }).on('error', fail);
});

const work = mkdtempSync(join(tmpdir(), 'ebb-bench-web-'));
const csv = join(work, `customers-${rows}.csv`);
execFileSync(ebb, ['generate', '--rows', String(rows), '--seed', String(seed), '--out', csv]);
const settings = { families: ['gbdt'], folds, seed: 42 };

function native(args, env = {}) {
  const started = process.hrtime.bigint();
  const out = execFileSync(ebb, args, { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
  return { seconds: seconds(started), out };
}

const state = join(work, 'state');
mkdirSync(state);
const vars = join(work, 'dev.vars');
writeFileSync(vars, `API_TOKEN=${randomBytes(24).toString('hex')}\nADMIN_TOKEN=${randomBytes(24).toString('hex')}\n`);
const port = await freePort();
const results = { render: [], quality: [], train: [], slider: [], nativeQuality: [], nativeTrain: [],
  fairness: [], segments: [], report: [], nativeFairness: [], nativeSegments: [], nativeReport: [] };
let aucs = {};
let context;
try {
  execFileSync('bash', ['scripts/worker.sh', 'start', String(port), state], {
    stdio: 'inherit', env: { ...process.env, EBB_DEV_VARS: vars },
  });
  context = await chromium.launchPersistentContext(join(work, 'profile'), {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  for (let i = 0; i < repeats; i++) {
    const page = await context.newPage();
    const app = new App(page);
    const data = new DataPage(page);
    const train = new TrainPage(page);
    let started = process.hrtime.bigint();
    await app.open(`http://127.0.0.1:${port}`);
    results.render.push(seconds(started));

    started = process.hrtime.bigint();
    await data.upload(csv);
    await page.locator('#data-summary', { hasText: `${rows.toLocaleString('en-US')} rows` }).waitFor({ timeout: 120_000 });
    results.quality.push(seconds(started));

    await app.show('train');
    await train.choose(settings);
    started = process.hrtime.bigint();
    await train.train();
    results.train.push(seconds(started));
    aucs.browser = await train.rocAuc('gbdt');

    await app.show('evaluate');
    const evaluate = new EvaluatePage(page);
    await evaluate.chart.waitFor();
    const moves = [];
    for (const t of [0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75, 0.2, 0.3]) {
      started = process.hrtime.bigint();
      await evaluate.setThreshold(t);
      moves.push(seconds(started));
    }
    results.slider.push(median(moves));

    await app.show('fairness');
    const fairness = new FairnessPage(page);
    await fairness.choose({ by: 'region' });
    started = process.hrtime.bigint();
    await fairness.audit('region');
    results.fairness.push(seconds(started));
    await app.show('segments');
    const segments = new SegmentsPage(page);
    started = process.hrtime.bigint();
    await segments.find();
    results.segments.push(seconds(started));
    started = process.hrtime.bigint();
    await segments.downloadReport('region');
    results.report.push(seconds(started));
    await page.close();

    results.nativeQuality.push(native(['validate', csv]).seconds);
    const trained = native(['train', csv, '--model', 'gbdt', '--folds', String(folds), '--seed', '42',
      '--json', '--out', join(work, 'model.json')], { RAYON_NUM_THREADS: '1' });
    results.nativeTrain.push(trained.seconds);
    aucs.native = JSON.parse(trained.out).models.find((m) => m.name === 'gbdt').cv.roc_auc;
    const one = { RAYON_NUM_THREADS: '1' };
    const model = join(work, 'model.json');
    results.nativeFairness.push(native(['fairness', model, csv, '--by', 'region'], one).seconds);
    results.nativeSegments.push(native(['segment', model, csv], one).seconds);
    results.nativeReport.push(native(['report', model, csv, '--by', 'region', '--out', join(work, 'report.html')], one).seconds);
  }
} finally {
  await context?.close();
  execFileSync('bash', ['scripts/worker.sh', 'stop', state], { stdio: 'inherit' });
  rmSync(work, { recursive: true, force: true });
}

const row = (step, browser, nativeSeconds) => {
  const b = median(browser);
  const n = nativeSeconds ? median(nativeSeconds) : null;
  return `| ${step} | ${b.toFixed(2)} | ${n === null ? '–' : n.toFixed(2)} | ${n === null ? '–' : `${(b / n).toFixed(2)}x`} |`;
};
console.log(`${rows.toLocaleString('en-US')} generated customers (seed ${seed}), median of ${repeats}; gbdt, ${folds} folds, seed 42`);
console.log('| step | Chromium s | native CLI s | ratio |');
console.log('|---|---:|---:|---:|');
console.log(row('first render', results.render, null));
console.log(row('parse + quality report', results.quality, results.nativeQuality));
console.log(row('train gbdt (one thread)', results.train, results.nativeTrain));
console.log(row('fairness by region', results.fairness, results.nativeFairness));
console.log(row('segments (k by silhouette)', results.segments, results.nativeSegments));
console.log(row('model report (HTML) by region', results.report, results.nativeReport));
console.log(`| threshold move (${rows.toLocaleString('en-US')} scored rows) | ${(median(results.slider) * 1000).toFixed(0)} ms | – | – |`);
console.log(`ROC-AUC: Chromium ${aucs.browser}, native ${aucs.native}${aucs.browser === aucs.native ? ' (equal)' : ' (DIFFERENT)'}`);
if (aucs.browser !== aucs.native) process.exit(1);
