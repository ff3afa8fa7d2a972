// Offline: one online visit installs the service worker -> the server is stopped and the browser
// set offline -> the dashboard reloads from the cache -> upload the churn file, train a model in
// the page, and a what-if on a customer answers as `ebb whatif` does on the model downloaded
// from the page. Runs last (it stops the shared server), in its own browser context: the
// others block service workers, since Playwright's routes (crash.mjs) do not see what a
// service worker answers from its cache.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { App } from '../pages/app.mjs';
import { DataPage } from '../pages/data.mjs';
import { TrainPage } from '../pages/train.mjs';
import { ModelsPage } from '../pages/models.mjs';
import { WhatIfPage, customerRecord } from '../pages/whatif.mjs';

export const name = 'offline: installed service worker, no server, train and what-if';
/** Tells run.mjs to give this spec a context that allows service workers, and to run it last. */
export const serviceWorkers = 'allow';
export const stopsServer = true;

export async function run({ page, context, baseUrl, churnCsv, stopServer, work, screenshots }) {
  const app = new App(page);
  const data = new DataPage(page);
  const train = new TrainPage(page);
  const models = new ModelsPage(page);
  const whatif = new WhatIfPage(page);

  // sw.js is never cached by the browser's HTTP cache (static/_headers).
  const sw = await fetch(`${baseUrl}/app/sw.js`);
  assert.equal(sw.status, 200);
  assert.equal(sw.headers.get('cache-control'), 'no-cache');
  const manifest = await (await fetch(`${baseUrl}/app/manifest.webmanifest`)).json();
  assert.equal(manifest.display, 'standalone');
  assert.deepEqual(manifest.icons.map((i) => i.sizes), ['192x192', '512x512']);

  await app.open(baseUrl);
  await page.waitForFunction(async () => (await navigator.serviceWorker.ready).active?.state === 'activated'
    && navigator.serviceWorker.controller !== null);
  // The API is not the service worker's: /v1/ answers come from the network.
  const [api] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/v1/app-info')),
    app.show('service'),
  ]);
  assert.equal(api.fromServiceWorker(), false, '/v1/app-info went past the service worker');

  stopServer();
  await context.setOffline(true);
  const [wasm] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('.wasm')),
    page.reload(),
  ]);
  assert.ok(wasm.fromServiceWorker(), 'the wasm came from the service worker');
  await page.locator('#tab-data').waitFor();
  // The cached page kept its COOP/COEP headers: Cancel stays cooperative offline.
  assert.equal(await page.evaluate(() => crossOriginIsolated), true, 'isolated from the cache');

  await data.upload(churnCsv);
  await data.summaryText();
  await app.show('train');
  await train.choose({ families: ['logistic'], folds: 2, seed: 5 });
  await train.train();
  await app.show('models');
  const model = join(work, 'offline-model.json');
  await models.download(model);

  await app.show('whatif');
  const row = 12;
  const record = customerRecord(churnCsv, row, 'churn');
  await whatif.startFrom(row);
  const before = await whatif.probability();
  await whatif.set('number_customer_service_calls', '6');
  const after = await whatif.probability();
  assert.notEqual(after, before, 'the edit moved the probability');
  const cli = JSON.parse(execFileSync('./target/release/ebb', ['whatif', model, '--record', JSON.stringify(record),
    '--set', 'number_customer_service_calls=6', '--json'], { encoding: 'utf8' }));
  assert.ok(Math.abs(before - cli.before.probability) <= 1e-12, `before: page ${before} vs ebb ${cli.before.probability}`);
  assert.ok(Math.abs(after - cli.after.probability) <= 1e-12, `after: page ${after} vs ebb ${cli.after.probability}`);
  await screenshots(app, ['whatif'], 'offline');
}
