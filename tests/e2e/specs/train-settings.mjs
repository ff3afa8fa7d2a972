// The Train view's other settings: class weighting of gradient boosting and a tuning budget.
// Each gives the model the CLI gives with the same flags (`ebb train --imbalance`, `ebb tune
// --out`), to the last digit of the out-of-fold ROC-AUC.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { App } from '../pages/app.mjs';
import { DataPage } from '../pages/data.mjs';
import { TrainPage } from '../pages/train.mjs';

export const name = 'train-settings: class weighting and tuning equal the CLI';

function ebbJson(args) {
  return JSON.parse(execFileSync('./target/release/ebb', [...args, '--json'], { encoding: 'utf8' }));
}

export async function run({ page, baseUrl, churnCsv, work }) {
  const app = new App(page);
  const data = new DataPage(page);
  const train = new TrainPage(page);

  await app.open(baseUrl);
  await data.upload(churnCsv);
  assert.match(await data.summaryText(), /5,000 rows × 20 columns/);

  await app.show('train');
  assert.match(await train.validationPlan(), /stratified k-fold/, 'no time column: k-fold');
  assert.match(await train.modelSize(), /5,000 clean rows: gradient boosting grows trees of 7 leaves, each on 80% of the features, averaged with 300 symmetric trees of 5 levels, the forest 300 trees\./,
    'the size rule for 5,000 rows, as `ebb train` applies it');
  assert.deepEqual(await app.unusableControls(), []);

  // Balanced class weights: `ebb train --model gbdt --folds 3 --seed 42 --imbalance balanced`.
  await train.choose({ families: ['gbdt'], folds: 3, seed: 42, imbalance: 'balanced' });
  await train.train();
  const weighted = ebbJson(['train', churnCsv, '--model', 'gbdt', '--folds', '3', '--seed', '42',
    '--imbalance', 'balanced', '--out', join(work, 'balanced.json')]);
  const expectedWeighted = weighted.models[0].cv.roc_auc;
  const shownWeighted = await train.rocAuc('gbdt');
  assert.ok(Math.abs(shownWeighted - expectedWeighted) <= 1e-12,
    `balanced: page ${shownWeighted} vs ebb train ${expectedWeighted}`);

  // A tuning budget: `ebb tune --trials 3 --max-trees 60 --folds 3 --seed 42 --out`.
  await train.choose({ families: [], folds: 3, seed: 42, imbalance: 'none', tune: { trials: 3, maxTrees: 60 } });
  await train.train();
  const tuned = ebbJson(['tune', churnCsv, '--trials', '3', '--max-trees', '60', '--folds', '3',
    '--seed', '42', '--out', join(work, 'tuned.json')]);
  const expectedTuned = tuned.model.models[0].cv.roc_auc;
  const shownTuned = await train.rocAuc('gbdt');
  assert.ok(Math.abs(shownTuned - expectedTuned) <= 1e-12,
    `tuned: page ${shownTuned} vs ebb tune ${expectedTuned}`);
  const summary = await train.tuningSummary();
  assert.match(summary, new RegExp(`Weighting kept: ${tuned.chosen_imbalance}\\.`));
  assert.match(summary, new RegExp(`in ${tuned.trials.length} evaluations`));
}
