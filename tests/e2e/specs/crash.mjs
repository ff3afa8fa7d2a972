// The compute worker dying is reported on the page, and a new worker takes over with the data.
import assert from 'node:assert/strict';
import { App } from '../pages/app.mjs';
import { DataPage } from '../pages/data.mjs';

export const name = 'crash: the worker dies, the page says so and recovers';

/** Serves the first compute worker with a prelude that throws on its first message. */
async function crashFirstWorker(context) {
  let served = false;
  await context.route('**/app/worker-*.js', async (route) => {
    if (served) return route.continue();
    served = true;
    const response = await route.fetch();
    const prelude = "self.addEventListener('message', (e) => { e.stopImmediatePropagation(); " +
      "throw new Error('injected crash'); }, { once: true });\n";
    await route.fulfill({ response, body: prelude + (await response.text()) });
  });
  return () => context.unroute('**/app/worker-*.js');
}

export async function run({ page, baseUrl, churnCsv }) {
  const app = new App(page);
  const data = new DataPage(page);
  const restore = await crashFirstWorker(page.context());
  try {
    await app.open(baseUrl);
    await data.upload(churnCsv);
    assert.match(await app.errorText(), /compute worker stopped: .*injected crash.*loading your data again/);
    assert.match(await data.summaryText(), /5,000 rows × 20 columns/);
  } finally {
    await restore();
  }
}
