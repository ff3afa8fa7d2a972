// Cancel stops training at once, the page stays usable and the data is still there.
import assert from 'node:assert/strict';
import { App } from '../pages/app.mjs';
import { DataPage } from '../pages/data.mjs';
import { TrainPage } from '../pages/train.mjs';

export const name = 'cancel: training stops, the data stays';

export async function run({ page, baseUrl }) {
  const app = new App(page);
  const data = new DataPage(page);
  const train = new TrainPage(page);

  await app.open(baseUrl);
  await data.generate();
  assert.match(await data.summaryText(), /generated: 5,000 customers, seed 42: 5,000 rows × 26 columns/);

  await app.show('train');
  // All three families with 5 folds: long enough to be cancelled mid-way.
  await train.choose({ families: ['gbdt', 'forest', 'logistic'], folds: 5, seed: 42 });
  await train.trainButton.click();
  await train.progress.waitFor();
  // The leaderboard fills as families finish: the first row shows while the others train.
  const first = await train.liveRows().first().innerText({ timeout: 120_000 });
  assert.match(first, /^(gbdt|forest|logistic)\s+0\.\d{4}/, `live row: ${first}`);
  assert.equal(await train.leaderboard.count(), 0, 'the final leaderboard waits for the model');
  await train.cancel();
  assert.equal(await train.leaderboard.count(), 0, 'no result from a cancelled run');
  assert.equal(await train.liveRows().count(), 0, 'no partial result after Cancel');
  assert.ok(await train.trainButton.isEnabled(), 'Train can start again');

  await app.show('data');
  assert.match(await data.summaryText(), /5,000 rows × 26 columns/);
}
