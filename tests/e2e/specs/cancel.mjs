// Cancel stops the work at once and keeps the worker: the page is cross-origin isolated, so the
// worker reads a shared stop flag and core stops at its next checkpoint. The data (and model)
// stay loaded: training again needs no new upload, and Decide and Explain can be cancelled too.
// A worker that does not stop within 2 s, or a page served without the isolation headers, gets
// the fallback: the worker is terminated and a new one loads the data again.
import assert from 'node:assert/strict';
import { App } from '../pages/app.mjs';
import { DataPage } from '../pages/data.mjs';
import { TrainPage } from '../pages/train.mjs';
import { DecidePage } from '../pages/decide.mjs';
import { ExplainPage } from '../pages/explain.mjs';

export const name = 'cancel: training, deciding and explaining stop, the worker and its data stay';

/** The dedicated workers the page starts, and whether each was closed (terminated). */
function watchWorkers(page) {
  const workers = [];
  page.on('worker', (w) => {
    const entry = { worker: w, closed: false };
    w.on('close', () => { entry.closed = true; });
    workers.push(entry);
  });
  return workers;
}

/** Whether `entry`'s worker is reported closed within `ms` (Playwright hears of it a little
 * after `terminate()`). */
async function closedWithin(entry, ms) {
  for (const end = Date.now() + ms; !entry.closed && Date.now() < end;) {
    await new Promise((ok) => setTimeout(ok, 50));
  }
  return entry.closed;
}

/** Starts training all three families with 5 folds (long enough to be cancelled mid-way) and
 * waits until its progress shows. */
async function startLongTraining(app, train) {
  await app.show('train');
  await train.choose({ families: ['gbdt', 'forest', 'logistic'], folds: 5, seed: 42 });
  await train.trainButton.click();
  await train.progress.waitFor();
}

export async function run({ page, baseUrl }) {
  const app = new App(page);
  const data = new DataPage(page);
  const train = new TrainPage(page);
  const decide = new DecidePage(page);
  const explain = new ExplainPage(page);
  const workers = watchWorkers(page);

  await app.open(baseUrl);
  // static/_headers: COOP and COEP on the page and on the worker's script.
  assert.equal(await page.evaluate(() => crossOriginIsolated), true, 'the page is cross-origin isolated');
  await data.generate();
  assert.match(await data.summaryText(), /generated: 5,000 customers, seed 42: 5,000 rows × 26 columns/);
  assert.equal(workers.length, 1, 'one compute worker');
  assert.equal(await workers[0].worker.evaluate(() => self.crossOriginIsolated), true, 'the worker is isolated too');

  await startLongTraining(app, train);
  // The leaderboard fills as families finish: the first row shows while the others train.
  const first = await train.liveRows().first().innerText({ timeout: 120_000 });
  assert.match(first, /^(gbdt|forest|logistic)\s+0\.\d{4}/, `live row: ${first}`);
  assert.equal(await train.leaderboard.count(), 0, 'the final leaderboard waits for the model');
  await train.cancel();
  assert.match(await app.infoText(), /^Cancelled during (training|fitting|cross-validating) (gbdt|forest|logistic); your data is still loaded\.$/);
  assert.equal(await train.leaderboard.count(), 0, 'no result from a cancelled run');
  assert.equal(await train.liveRows().count(), 0, 'no partial result after Cancel');
  assert.ok(await train.trainButton.isEnabled(), 'Train can start again');
  assert.equal(workers.length, 1, 'Cancel kept the worker: no new one started');
  assert.equal(workers[0].closed, false, 'Cancel did not terminate the worker');

  // At once, with nothing loaded again: the worker still holds the 5,000 rows. A forest, whose
  // exact SHAP values are slow enough for Decide and Explain to be cancelled mid-way.
  await train.choose({ families: ['forest'], folds: 3, seed: 42 });
  await train.train();
  assert.ok(await train.rocAuc('forest') > 0.5, 'a model trained on the data kept through Cancel');
  await app.show('data');
  assert.match(await data.summaryText(), /5,000 rows × 26 columns/);

  // Decide: explaining every contact (capacity for all 5,000) is the slow part; Cancel stops it.
  await app.show('decide');
  await decide.setInputs({ cost: 1, value: 500, successRate: 0.5, capacity: 5000 });
  await decide.decideButton.click();
  await page.locator('#progress').waitFor();
  await app.cancel();
  assert.match(await app.infoText(), /^Cancelled during (scoring|planning|explaining contacts); your data is still loaded\.$/);
  assert.equal(await decide.summary.count(), 0, 'no decision from a cancelled run');
  // The model and the data are still in the same worker: deciding again answers.
  await decide.setInputs({ capacity: 100 });
  await decide.decide();
  assert.equal(await decide.contacts.count(), 50, 'the first 50 contacts are listed');

  // Explain: the global importance (SHAP of 500 rows) stops too.
  await app.show('explain');
  await page.locator('#explain').click();
  await page.locator('#progress').waitFor();
  await app.cancel();
  assert.match(await app.infoText(), /^Cancelled during explaining; your data is still loaded\.$/);
  assert.equal(await explain.importanceChart.count(), 0, 'no importance from a cancelled run');
  assert.deepEqual(workers.map((w) => w.closed), [false], 'still the first worker');

  // A worker that does not stop in time (as in work with no checkpoint): its first copy is
  // served with a prelude that hides the stop flag from it. After the 2 s grace period the page
  // terminates it, and a new worker (served normally) loads the data again.
  let served = false;
  const workerScript = '**/app/worker-*.js';
  await page.route(workerScript, async (route) => {
    if (served) return route.continue();
    served = true;
    const response = await route.fetch();
    await route.fulfill({ response, body: 'Atomics.load = () => 0;\n' + (await response.text()) });
  });
  await app.open(baseUrl);
  await data.generate();
  await data.summaryText();
  await startLongTraining(app, train);
  let before = workers.length;
  const clicked = Date.now();
  await train.cancel();
  assert.ok(Date.now() - clicked >= 2000, `replaced after the grace period, not before (${Date.now() - clicked} ms)`);
  assert.match(await app.infoText(), /^Cancelled: the compute worker was stopped and replaced; your data is being loaded into the new one\.$/);
  assert.equal(workers.length, before + 1, 'a new worker replaced the one that did not stop');
  assert.equal(await closedWithin(workers[before - 1], 5000), true, 'the deaf worker was terminated');
  await app.show('data');
  assert.match(await data.summaryText(), /5,000 rows × 26 columns/);
  await page.unroute(workerScript);

  // The fallback: the same page served without the isolation headers cannot share memory, so
  // Cancel terminates the worker at once and a new one loads the data again.
  const dashboard = (url) => url.pathname === '/app/';
  await page.route(dashboard, async (route) => {
    const response = await route.fetch();
    const headers = { ...response.headers() };
    delete headers['cross-origin-opener-policy'];
    delete headers['cross-origin-embedder-policy'];
    await route.fulfill({ response, headers });
  });
  await app.open(baseUrl);
  assert.equal(await page.evaluate(() => crossOriginIsolated), false, 'served without the headers');
  await data.generate();
  await data.summaryText();
  await startLongTraining(app, train);
  before = workers.length;
  await train.cancel();
  assert.match(await app.infoText(), /^Cancelled: the compute worker was stopped and replaced; your data is being loaded into the new one\.$/);
  assert.equal(workers.length, before + 1, 'a new worker replaced the terminated one');
  assert.equal(await closedWithin(workers[before - 1], 5000), true, 'the old worker was terminated');
  await app.show('data');
  assert.match(await data.summaryText(), /5,000 rows × 26 columns/);
  await page.unroute(dashboard);
}
