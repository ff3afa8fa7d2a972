// The analyst's path: open -> upload the churn file -> quality report -> train seeded -> the
// leaderboard's ROC-AUC equals `ebb train`'s -> the evaluation charts -> move the threshold ->
// precision/recall and the confusion matrix follow -> decide with business inputs -> the
// recommended threshold, profit and downloaded contact list equal `ebb decide`'s.
import assert from 'node:assert/strict';
import { App } from '../pages/app.mjs';
import { DataPage } from '../pages/data.mjs';
import { TrainPage } from '../pages/train.mjs';
import { EvaluatePage } from '../pages/evaluate.mjs';
import { DecidePage } from '../pages/decide.mjs';
import { ServicePage } from '../pages/service.mjs';

export const name = 'flow: upload, train, evaluate';

export async function run({ page, baseUrl, churnCsv, cliTrain, cliDecide, screenshots, tokens, allowConsoleError }) {
  const app = new App(page);
  const data = new DataPage(page);
  const train = new TrainPage(page);
  const evaluate = new EvaluatePage(page);
  const decide = new DecidePage(page);
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
  for (const chart of ['roc', 'pr', 'calibration', 'lift', 'gains']) {
    assert.ok((await evaluate.charts()).includes(chart), `Evaluate draws the ${chart} chart`);
  }
  const matrix = await evaluate.confusion();
  assert.equal(matrix.tp + matrix.fp + matrix.tn + matrix.fn, 5000, 'the matrix counts every customer');
  assert.equal(lower.contacts, `${(matrix.tp + matrix.fp).toLocaleString('en-US')} of 5,000`);

  await app.show('decide');
  await decide.setInputs({ cost: 5, value: 500, successRate: 1.5, capacity: 200 });
  await decide.decideButton.click();
  assert.match(await decide.fieldError('success-rate'), /more than 0 and at most 1/);
  assert.equal(await decide.working(), '', 'an invalid input is not sent to the worker');
  assert.equal(await decide.fieldError('cost'), '', 'only the bad field gets a message');
  await decide.setInputs({ successRate: 0.25 });
  await decide.decide();
  await decide.chart.waitFor();
  const cli = cliDecide(cliTrain(settings).modelPath,
    ['--cost', '5', '--value', '500', '--success-rate', '0.25', '--capacity', '200']);
  const shownBest = await decide.recommended();
  assert.equal(shownBest.threshold, cli.json.best_threshold, 'recommended threshold = ebb decide');
  assert.equal(shownBest.profit, cli.json.best.net, 'expected profit = ebb decide');
  assert.equal(await decide.contacts.count(), Math.min(50, cli.json.contacts.length));
  const file = await decide.downloadContacts();
  assert.equal(file.name, 'contacts.csv');
  const lines = file.text.trimEnd().split('\n');
  assert.equal(lines[0], 'id,probability,expected_value,remaining_value,top_reasons');
  assert.equal(lines.length - 1, Math.min(200, cli.json.worth_contacting), 'capacity caps the list');
  assert.equal(file.text, cli.csv, 'the downloaded contact list is the one ebb decide writes');

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

  await screenshots(app, ['data', 'train', 'evaluate', 'decide', 'models', 'service']);
}
