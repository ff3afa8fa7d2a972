// The dashboard's speed in Chromium next to the native CLI on the same file and settings
// (`make bench-web`, after `make web worker build-release`). Prints a Markdown table.
//
//   node bench/web.mjs [--rows 100000] [--seed 7] [--folds 3] [--repeats 3] [--only GROUPS]
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
// - drift report: a newer batch of --rows customers (`ebb generate --seed 2 --drift 0.5`, the
//   label column removed so the bootstrap performance check is apart) against a logistic model
//   trained natively on --rows customers of seed 1 (as bench/drift.sh), uploaded in the Models
//   view; the batch is uploaded and parsed first, then Compare until the report shows (core's
//   drift_of_table: scoring, binning, column tests, score drift). Native: `ebb-bench drift`
//   (the same call in-process on the parsed table) and `ebb drift MODEL BATCH --json` as a
//   whole process (parse included). Also with the labels and the default 200 resamples.
// - what-if edit: on a 300-tree gbdt (`ebb train --trees 300` on --whatif-rows generated
//   customers, uploaded in the Models view), a number field of a customer changed in the What-if
//   view, timed inside the page from the input event to the DOM showing the new probability and
//   top-5 reasons, and to the suggestion for that edit; the median of 15 edits. Native: the
//   same core calls in-process (`ebb-bench whatif`, explainer built once, as the worker keeps it).
// - explain: SHAP of 1,000 generated customers (seed 8) with
//   a 300-tree gbdt (`ebb train --model gbdt --trees 300` on 20,000 customers, seed 7),
//   uploaded in the Models view: from Explain (rows for importance = 1,000) until the
//   importance chart shows; native: `ebb explain MODEL FILE --sample 1000 --examples 0 --json`
//   on one thread, and the same with `--sample 1` to show the process start, file reading and
//   explainer set-up that the native time includes.
// - fairness by region, segments (k chosen by silhouette, value 600) and the model report by
//   region: the button until the table, the persona cards or the downloaded file; native:
//   `ebb fairness|segment|report MODEL FILE` with the model `ebb train` wrote (the same model:
//   same data, settings and seed), on one thread.
// - cancel: training gbdt on the --rows file (uploaded once), cancelled 2 s after its progress
//   bar shows; timed inside the page from the Cancel click until the page is idle again with
//   the Cancelled notice. Cooperative (the page as served, cross-origin isolated: the worker
//   stops at core's next checkpoint and keeps the data) against the fallback on the same page
//   served without the COOP/COEP headers (terminate the worker, start a new one, read and check
//   the --rows file again: the page is idle once the data is back); the median of --repeats.
// The ROC-AUC of both is printed too: they must be the same number; so must the importances.
// `--only` runs some groups of steps, comma-separated: basic (render, parse, train, threshold),
// drift, whatif, explain, cancel. All of them by default.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { chromium } from 'playwright-core';
import { App } from '../tests/e2e/pages/app.mjs';
import { DataPage } from '../tests/e2e/pages/data.mjs';
import { TrainPage } from '../tests/e2e/pages/train.mjs';
import { EvaluatePage } from '../tests/e2e/pages/evaluate.mjs';
import { ModelsPage } from '../tests/e2e/pages/models.mjs';
import { DriftPage } from '../tests/e2e/pages/drift.mjs';
import { WhatIfPage, customerRecord } from '../tests/e2e/pages/whatif.mjs';
import { ExplainPage } from '../tests/e2e/pages/explain.mjs';
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
const whatifRows = flag('whatif-rows', 5000);
const groups = ['basic', 'drift', 'whatif', 'explain', 'cancel'];
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1].split(',') : groups;
for (const g of only) if (!groups.includes(g)) throw new Error(`--only: no group ${g} (known: ${groups.join(', ')})`);
const has = (group) => only.includes(group);
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
if (has('basic') || has('cancel')) execFileSync(ebb, ['generate', '--rows', String(rows), '--seed', String(seed), '--out', csv]);
// The explain step's model (300 trees, trained natively) and the 1,000 customers it explains.
const explainRows = 1000;
const explainCsv = join(work, 'explain-customers.csv');
const explainModel = join(work, 'explain-gbdt-300.json');
const trainCsv = join(work, 'explain-train.csv');
if (has('explain')) {
  execFileSync(ebb, ['generate', '--rows', '20000', '--seed', '7', '--out', trainCsv]);
  execFileSync(ebb, ['generate', '--rows', String(explainRows), '--seed', '8', '--out', explainCsv]);
  execFileSync(ebb, ['train', trainCsv, '--model', 'gbdt', '--trees', '300', '--folds', '2', '--out', explainModel]);
}
const settings = { families: ['gbdt'], folds, seed: 42 };
const driftFiles = {
  model: join(work, 'drift-model.json'),
  labelled: join(work, 'drift-batch-labelled.csv'),
  batch: join(work, 'drift-batch.csv'),
};
if (has('drift')) {
  execFileSync(ebb, ['generate', '--rows', String(rows), '--seed', '1', '--out', join(work, 'drift-reference.csv')]);
  execFileSync(ebb, ['train', join(work, 'drift-reference.csv'), '--model', 'logistic', '--folds', '2',
    '--out', driftFiles.model]);
  execFileSync(ebb, ['generate', '--rows', String(rows), '--seed', '2', '--drift', '0.5', '--out', driftFiles.labelled]);
  // The label is the last column of generated files (no cell holds a comma).
  writeFileSync(driftFiles.batch, readFileSync(driftFiles.labelled, 'utf8').replace(/,[^,\n]*\n/g, '\n'));
}

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
  drift: [], driftLabelled: [], nativeDrift: [], nativeDriftProcess: [], nativeDriftLabelled: [], edit: [], suggest: [],
  explain: [], nativeExplain: [], nativeExplainSetup: [],
  fairness: [], segments: [], report: [], nativeFairness: [], nativeSegments: [], nativeReport: [],
  cancelCooperative: [], cancelTerminate: [] };
let nativeWhatif;
let aucs = {};
let importances = {};
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
  for (let i = 0; i < (has('basic') || has('drift') ? repeats : 0); i++) {
    const page = await context.newPage();
    const app = new App(page);
    const data = new DataPage(page);
    const train = new TrainPage(page);
    let started = process.hrtime.bigint();
    await app.open(`http://127.0.0.1:${port}`);
    results.render.push(seconds(started));

    if (has('drift')) {
      const models = new ModelsPage(page);
      const drift = new DriftPage(page);
      await app.show('models');
      await models.upload(driftFiles.model);
      await page.locator('#model-info td', { hasText: 'drift-model.json' }).waitFor();
      await app.show('drift');
      for (const [file, into] of [[driftFiles.batch, results.drift], [driftFiles.labelled, results.driftLabelled]]) {
        const name = file.split('/').pop();
        await page.locator('#batch-file').setInputFiles(file);
        await page.locator('#batch-summary', { hasText: `${name} — ${rows.toLocaleString('en-US')} rows` })
          .waitFor({ timeout: 120_000 });
        started = process.hrtime.bigint();
        await drift.compare();
        await page.locator('#drift-verdict', { hasText: name }).waitFor({ timeout: 120_000 });
        into.push(seconds(started));
      }
      const inProcess = join(work, 'drift-in-process.json');
      execFileSync('./target/release/ebb-bench', ['drift', '--model', driftFiles.model, '--data', driftFiles.batch,
        '--repeats', '1', '--out', inProcess]);
      results.nativeDrift.push(JSON.parse(readFileSync(inProcess, 'utf8')).drift_s);
      results.nativeDriftProcess.push(native(['drift', driftFiles.model, driftFiles.batch, '--json']).seconds);
      results.nativeDriftLabelled.push(native(['drift', driftFiles.model, driftFiles.labelled, '--json']).seconds);
    }
    if (!has('basic')) {
      await page.close();
      continue;
    }

    await app.show('data');
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
  if (has('whatif')) nativeWhatif = await benchWhatif(context);
  for (let i = 0; i < (has('explain') ? repeats : 0); i++) {
    const page = await context.newPage();
    const app = new App(page);
    const explain = new ExplainPage(page);
    await app.open(`http://127.0.0.1:${port}`);
    await new DataPage(page).upload(explainCsv);
    await page.locator('#data-summary', { hasText: `${explainRows.toLocaleString('en-US')} rows` }).waitFor({ timeout: 120_000 });
    await app.show('models');
    await new ModelsPage(page).upload(explainModel);
    await page.locator('#model-info td', { hasText: 'explain-gbdt-300.json' }).waitFor({ timeout: 120_000 });
    await app.show('explain');
    await page.locator('#explain-rows').fill(String(explainRows));
    const started = process.hrtime.bigint();
    await page.locator('#explain').click();
    await page.locator(`#importance-note[data-rows="${explainRows}"]`).waitFor({ timeout: 600_000 });
    results.explain.push(seconds(started));
    importances.browser = await explain.importance();
    await explain.idle();
    await page.close();

    const args = ['explain', explainModel, explainCsv, '--examples', '0', '--json', '--sample'];
    const one = { RAYON_NUM_THREADS: '1' };
    const run = native([...args, String(explainRows)], one);
    results.nativeExplain.push(run.seconds);
    importances.native = JSON.parse(run.out).importance.map((c) => ({ column: c.column, value: c.mean_abs }));
    results.nativeExplainSetup.push(native([...args, '1'], one).seconds);
  }
  if (has('cancel')) {
    // Service workers blocked: Playwright's route (the page without COOP/COEP) does not see
    // what a service worker fetches, and both modes then load the same way.
    const blocked = await chromium.launchPersistentContext(join(work, 'profile-cancel'), {
      executablePath: chromiumPath,
      headless: true,
      viewport: { width: 1280, height: 800 },
      serviceWorkers: 'block',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    try {
      await benchCancel(blocked, true, results.cancelCooperative);
      await benchCancel(blocked, false, results.cancelTerminate);
    } finally {
      await blocked.close();
    }
  }
} finally {
  await context?.close();
  execFileSync('bash', ['scripts/worker.sh', 'stop', state], { stdio: 'inherit' });
  rmSync(work, { recursive: true, force: true });
}

/** Cancels --repeats trainings on the --rows file, pushing the seconds from each Cancel click to
 * the page idle with the Cancelled notice into `into`. `isolated` false serves the page without
 * COOP/COEP, so Cancel terminates the worker and a new one reads the file again. */
async function benchCancel(context, isolated, into) {
  const page = await context.newPage();
  if (!isolated) {
    await page.route((url) => url.pathname === '/app/', async (route) => {
      const response = await route.fetch();
      const headers = { ...response.headers() };
      delete headers['cross-origin-opener-policy'];
      delete headers['cross-origin-embedder-policy'];
      await route.fulfill({ response, headers });
    });
  }
  const app = new App(page);
  const train = new TrainPage(page);
  await app.open(`http://127.0.0.1:${port}`);
  if (await page.evaluate(() => crossOriginIsolated) !== isolated) throw new Error(`cancel: crossOriginIsolated is not ${isolated}`);
  await new DataPage(page).upload(csv);
  await page.locator('#data-summary', { hasText: `${rows.toLocaleString('en-US')} rows` }).waitFor({ timeout: 120_000 });
  await app.show('train');
  await train.choose(settings);
  for (let i = 0; i < repeats; i++) {
    await train.trainButton.click();
    await train.progress.waitFor({ timeout: 120_000 });
    await page.waitForTimeout(2000);
    into.push(await page.evaluate(() => new Promise((done) => {
      const busy = document.querySelector('#busy');
      const started = performance.now();
      const observer = new MutationObserver(() => {
        if (busy.textContent === '' && document.querySelector('#notice.info')?.textContent.startsWith('Cancelled')) {
          observer.disconnect();
          done((performance.now() - started) / 1000);
        }
      });
      observer.observe(document.body, { subtree: true, childList: true, characterData: true });
      document.querySelector('#cancel').click();
    })));
    if (!(await train.trainButton.isEnabled())) throw new Error('cancel: Train is not enabled after Cancel');
  }
  await page.close();
}

/** The What-if view on a 300-tree model: per edit, ms to the new probability and reasons, and
 * to the suggestion; then the same core calls natively. */
async function benchWhatif(context) {
  const small = join(work, `customers-${whatifRows}.csv`);
  execFileSync(ebb, ['generate', '--rows', String(whatifRows), '--seed', String(seed), '--out', small]);
  const model = join(work, 'gbdt-300.json');
  execFileSync(ebb, ['train', small, '--model', 'gbdt', '--trees', '300', '--folds', '2', '--seed', '42', '--out', model]);
  // The customer most at risk (first on `ebb decide`'s list), so the suggestion has a search
  // to do; the page finds them by id, the native side by their row.
  const contacts = join(work, 'contacts.csv');
  execFileSync(ebb, ['decide', model, small, '--out', contacts]);
  const id = readFileSync(contacts, 'utf8').split('\n')[1].split(',')[0];
  const n = readFileSync(small, 'utf8').split('\n').findIndex((line) => line.startsWith(`${id},`));
  const page = await context.newPage();
  const app = new App(page);
  await app.open(`http://127.0.0.1:${port}`);
  await new DataPage(page).upload(small);
  await page.locator('#data-summary').waitFor();
  await app.show('models');
  await new ModelsPage(page).upload(model);
  await page.locator('#model-info td', { hasText: 'gbdt-300.json' }).waitFor();
  await app.show('whatif');
  const whatif = new WhatIfPage(page);
  await whatif.startFrom(id);
  const field = await page.locator('.whatif-field:has(input[type=range])').first().getAttribute('data-name');
  const slider = whatif.field(field).locator('input[type=range]');
  const [low, high] = [Number(await slider.getAttribute('min')), Number(await slider.getAttribute('max'))];
  let last;
  for (let i = 0; i < 15; i++) {
    last = String(Number((low + ((i % 5) + 1) * (high - low) / 6).toPrecision(4)));
    const times = await whatif.control(field).evaluate((input, value) => new Promise((done) => {
      const result = document.querySelector('#whatif-result');
      const before = result.dataset.seq;
      const started = performance.now();
      let edited;
      const check = () => {
        if (edited === undefined && result.dataset.seq !== before && result.getAttribute('aria-busy') === 'false') {
          edited = performance.now() - started;
        }
        const s = document.querySelector('#whatif-suggestion');
        if (edited !== undefined && s?.dataset.seq === result.dataset.seq) {
          observer.disconnect();
          done({ edited, suggested: performance.now() - started });
        }
      };
      const observer = new MutationObserver(check);
      observer.observe(result, { subtree: true, childList: true, attributes: true });
      input.value = value;
      input.dispatchEvent(new Event('input', { bubbles: true }));
    }), last);
    results.edit.push(times.edited);
    results.suggest.push(times.suggested);
  }
  const shown = await whatif.probability();
  await page.close();
  // The view's default actionable fields: every model input but dates.
  const inputs = JSON.parse(readFileSync(model, 'utf8')).pipeline.inputs;
  const actionable = inputs.filter((i) => i.kind !== 'datetime').map((i) => i.name);
  const record = customerRecord(small, n, 'churn');
  const native = JSON.parse(execFileSync('./target/release/ebb-bench', ['whatif', '--model', model,
    '--record', JSON.stringify(record), '--set', `${field}=${last}`, '--actionable', actionable.join(','),
    '--repeats', '50'], { encoding: 'utf8' }));
  if (Math.abs(native.probability - shown) > 1e-12) throw new Error(`what-if: page ${shown} vs core ${native.probability}`);
  return { ...native, field };
}

const sameImportance = !has('explain') || importances.browser.length === importances.native.length
  && importances.browser.every((c, i) => c.column === importances.native[i].column
    && Math.abs(c.value - importances.native[i].value) <= 1e-12);
const row = (step, browser, nativeSeconds) => {
  const b = median(browser);
  const n = nativeSeconds ? median(nativeSeconds) : null;
  return `| ${step} | ${b.toFixed(2)} | ${n === null ? '–' : n.toFixed(2)} | ${n === null ? '–' : `${(b / n).toFixed(2)}x`} |`;
};
if (has('basic')) {
  console.log(`${rows.toLocaleString('en-US')} generated customers (seed ${seed}), median of ${repeats}; gbdt, ${folds} folds, seed 42`);
}
if (has('drift')) {
  console.log(`drift: ${rows.toLocaleString('en-US')} customers at --drift 0.5 (seed 2) against a logistic model trained on ${rows.toLocaleString('en-US')} of seed 1, median of ${repeats}`);
}
console.log('| step | Chromium s | native CLI s | ratio |');
console.log('|---|---:|---:|---:|');
if (has('basic')) {
  console.log(row('first render', results.render, null));
  console.log(row('parse + quality report', results.quality, results.nativeQuality));
  console.log(row('train gbdt (one thread)', results.train, results.nativeTrain));
  console.log(`| threshold move (${rows.toLocaleString('en-US')} scored rows) | ${(median(results.slider) * 1000).toFixed(0)} ms | – | – |`);
}
if (has('drift')) {
  console.log(row('drift report, no labels (native: in-process, parsed)', results.drift, results.nativeDrift));
  console.log(row('drift report, no labels (native: whole ebb drift process)', results.drift, results.nativeDriftProcess));
  console.log(row('drift report with labels, 200 resamples (native: whole process)', results.driftLabelled, results.nativeDriftLabelled));
}
if (has('whatif')) {
  const ms = (x) => `${x.toFixed(1)} ms`;
  console.log(`| what-if edit → probability + top-5 reasons (${nativeWhatif.trees} trees) | ${ms(median(results.edit))} | ${ms(nativeWhatif.what_if_ms)} | ${(median(results.edit) / nativeWhatif.what_if_ms).toFixed(2)}x |`);
  console.log(`| what-if edit → suggestion shown | ${ms(median(results.suggest))} | ${ms(nativeWhatif.what_if_ms + nativeWhatif.suggest_ms)} | ${(median(results.suggest) / (nativeWhatif.what_if_ms + nativeWhatif.suggest_ms)).toFixed(2)}x |`);
  console.log(`what-if field ${nativeWhatif.field}; native explainer build ${ms(nativeWhatif.explainer_build_ms)}; slowest browser edit ${ms(Math.max(...results.edit))}, slowest suggestion ${ms(Math.max(...results.suggest))}`);
}
if (has('explain')) {
  console.log(row(`SHAP importance, ${explainRows.toLocaleString('en-US')} customers, gbdt 300 trees (one thread)`, results.explain, results.nativeExplain));
  console.log(`| of which native start, reading and set-up (\`--sample 1\`) | – | ${median(results.nativeExplainSetup).toFixed(2)} | – |`);
  console.log(`SHAP importance: ${sameImportance ? 'equal' : 'DIFFERENT'} (Chromium vs ebb explain, ${importances.native.length} fields to 1e-12)`);
}
if (has('cancel')) {
  const [coop, term] = [median(results.cancelCooperative), median(results.cancelTerminate)];
  console.log(`| cancel training, cooperative (worker and data kept) | ${coop.toFixed(3)} | – | – |`);
  console.log(`| cancel training, terminate + new worker + reload of ${rows.toLocaleString('en-US')} rows (no COOP/COEP) | ${term.toFixed(3)} | – | – |`);
  console.log(`cancel: cooperative / terminate = ${(coop / term).toFixed(3)}; cooperative ${results.cancelCooperative.map((x) => x.toFixed(3)).join(', ')} s, terminate ${results.cancelTerminate.map((x) => x.toFixed(3)).join(', ')} s`);
}
if (has('basic')) {
  console.log(`ROC-AUC: Chromium ${aucs.browser}, native ${aucs.native}${aucs.browser === aucs.native ? ' (equal)' : ' (DIFFERENT)'}`);
}
if ((has('basic') && aucs.browser !== aucs.native) || !sameImportance) process.exit(1);
