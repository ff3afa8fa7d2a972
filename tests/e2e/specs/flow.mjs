// The analyst's path: open -> upload the churn file -> quality report -> train seeded -> the
// leaderboard's ROC-AUC equals `ebb train`'s -> move the threshold -> precision/recall follow.
import assert from 'node:assert/strict';
import { App } from '../pages/app.mjs';
import { DataPage } from '../pages/data.mjs';
import { TrainPage } from '../pages/train.mjs';
import { EvaluatePage } from '../pages/evaluate.mjs';
import { ServicePage } from '../pages/service.mjs';

export const name = 'flow: upload, train, evaluate';

export async function run({ page, baseUrl, churnCsv, cliTrain, screenshots, tokens, allowConsoleError }) {
  const app = new App(page);
  const data = new DataPage(page);
  const train = new TrainPage(page);
  const evaluate = new EvaluatePage(page);
  const service = new ServicePage(page);
  const settings = { families: ['gbdt'], folds: 3, seed: 42 };

  await app.open(baseUrl);
  await data.upload(churnCsv);
  assert.match(await data.summaryText(), /5,000 rows × 20 columns/);
  assert.equal(await data.qualityRows(), 19, 'one quality row per column but the target');

  await app.show('train');
  await train.choose(settings);
  await train.train();
  const expected = cliTrain(settings).models.find((m) => m.name === 'gbdt').cv.roc_auc;
  const shown = await train.rocAuc('gbdt');
  assert.ok(Math.abs(shown - expected) <= 1e-12, `page ROC-AUC ${shown} vs ebb train ${expected}`);

  await app.show('evaluate');
  await evaluate.chart.waitFor();
  const atModel = await evaluate.metrics();
  const lower = await evaluate.setThreshold(0.1);
  assert.ok(lower.recall > atModel.recall, `recall ${atModel.recall} -> ${lower.recall}`);
  assert.ok(lower.precision < atModel.precision, `precision ${atModel.precision} -> ${lower.precision}`);
  assert.notEqual(lower.contacts, atModel.contacts);

  await app.show('service');
  assert.match(await service.status(), /Status: (ok|degraded|unavailable)/);
  // METRICS_TOKEN is set: the details need it, a wrong one is refused with the API's reason.
  assert.ok(await service.asksForToken(), 'the Service view asks for the metrics token');
  allowConsoleError(/status of 401 .*\/v1\/app-info/, 'app-info with a wrong metrics token');
  await service.enterToken('not-the-token');
  assert.match(await service.tokenError(), /the metrics token was refused: the token is not valid/);
  await service.enterToken(tokens.metrics);
  assert.match(await service.row('Models registered'), /^\d+$/);
  assert.match(await service.status(), /Status: (ok|degraded|unavailable)/);
  assert.deepEqual(await app.unusableControls(), [], 'every control has a name and keyboard focus');

  await screenshots(app, ['data', 'train', 'evaluate', 'service']);
}
