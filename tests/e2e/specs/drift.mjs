// Drift: a model trained by `ebb train` on generated customers is uploaded; a newer batch from
// `ebb generate --drift 0.5` is compared with its training data in the page, and every number
// of the column table, the score drift, the performance check and the recommendation equal
// `ebb drift MODEL BATCH --json`. The flagged columns are exactly the ones README's "Synthetic
// drift" documents as shifted. Then the same batch generated in the page gives the same report,
// and bad batches get core's messages.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from '../pages/app.mjs';
import { ModelsPage } from '../pages/models.mjs';
import { DriftPage } from '../pages/drift.mjs';

export const name = 'drift: batch against training, equal to ebb drift --json';

// README "Synthetic drift": the input columns `--drift` shifts (core's `drifted_columns()`).
const SHIFTED = ['engagement_score', 'payment_method', 'plan', 'region',
  'usage_hours_30d', 'usage_hours_7d', 'usage_hours_90d'];
const ROWS = 4000;

/** `ebb drift --json`'s columns as the page's table rows carry them. */
function cliRows(json) {
  return json.columns.map((c) => ({
    column: c.name,
    verdict: c.verdict,
    psi: c.psi ?? null,
    p: c.ks?.p_value ?? c.chi_square?.p_value ?? null,
    statistic: c.ks?.statistic ?? c.chi_square?.statistic ?? null,
    distance: c.wasserstein ?? c.js_distance ?? null,
    missingChange: c.missing.change,
  }));
}

const flagged = (rows) => rows.filter((r) => r.verdict !== 'ok').map((r) => r.column).sort();

/** The CSV at `path` with `edit(cells, row)` applied to each data row and the header kept. */
function edited(path, out, edit) {
  const [header, ...lines] = readFileSync(path, 'utf8').trimEnd().split('\n');
  const names = header.split(',');
  const rows = lines.slice(0, 60).map((l) => edit(l.split(','), names));
  writeFileSync(out, [edit(names, names, true), ...rows].map((r) => r.join(',')).join('\n') + '\n');
}

export async function run({ page, baseUrl, screenshots, work }) {
  const app = new App(page);
  const models = new ModelsPage(page);
  const drift = new DriftPage(page);
  const ebb = (...args) => execFileSync('./target/release/ebb', args, { encoding: 'utf8' });
  const training = join(work, 'drift-training.csv');
  const model = join(work, 'drift-model.json');
  const batch = join(work, 'drift-batch.csv');
  ebb('generate', '--rows', String(ROWS), '--seed', '1', '--out', training);
  ebb('train', training, '--model', 'gbdt', '--folds', '2', '--seed', '42', '--out', model);
  ebb('generate', '--rows', String(ROWS), '--seed', '2', '--drift', '0.5', '--out', batch);
  const cli = JSON.parse(ebb('drift', model, batch, '--json'));
  const modelId = JSON.parse(readFileSync(model, 'utf8')).model_id;

  await app.open(baseUrl);
  // Without a model there is nothing to compare with.
  await app.show('drift');
  assert.match(await page.locator('#drift-title + p.hint').innerText(), /^Train a model \(Train view\) or upload one/);
  assert.ok(await page.locator('#check-drift').isDisabled());

  await app.show('models');
  await models.upload(model);
  await page.locator('#model-info td', { hasText: 'drift-model.json' }).waitFor();
  assert.equal(await models.currentId(), modelId);

  await app.show('drift');
  assert.deepEqual(await drift.bootstrapSettings(), { bootstrap: 200, seed: 42 }, 'the CLI defaults');
  await drift.upload(batch, 'drift-batch.csv');
  assert.match(await drift.batch.innerText(), /4,000 rows × 26 columns/);
  await drift.compare();
  await drift.waitForReport('drift-batch.csv');

  const rows = await drift.rows();
  assert.deepEqual(flagged(rows), SHIFTED, 'exactly the documented shifted columns are flagged');
  assert.deepEqual(rows, cliRows(cli), 'every number of the table equals ebb drift --json');
  assert.equal(await drift.recommendationText(), cli.recommendation);
  assert.equal(await drift.datasetVerdict(), cli.dataset_verdict);
  assert.deepEqual(await drift.scoreDrift(), { psi: cli.score_drift.psi, verdict: cli.score_drift.verdict });
  const perf = await drift.performance();
  for (const [shown, key] of [['ROC-AUC', 'roc_auc'], ['recall', 'recall']]) {
    const m = cli.performance[key];
    assert.deepEqual(perf[shown], { current: m.current, low: m.ci_low, high: m.ci_high, training: m.training }, shown);
  }

  // The histogram follows the chosen column: one bar pair per training bin (numeric: one more
  // than the upper edges; categorical: each level and `other`), plus `(missing)` where any.
  const reference = JSON.parse(readFileSync(model, 'utf8')).reference.columns;
  const bins = (column) => {
    const b = reference.find((c) => c.name === column).bins;
    return 1 + (b.upper_edges ?? b.levels).length;
  };
  const plotted = await drift.plot('engagement_score');
  assert.match(plotted.title, /^engagement_score: share of rows per training bin/);
  assert.equal(plotted.bars, bins('engagement_score') + 1, 'the training bins and (missing)');
  assert.equal((await drift.plot('plan')).bars, bins('plan'), 'each plan level and other, none missing');

  // Another bootstrap count and seed give the CLI's interval for them.
  const cli50 = JSON.parse(ebb('drift', model, batch, '--json', '--bootstrap', '50', '--seed', '9'));
  await drift.compare({ bootstrap: 50, seed: 9 });
  await drift.waitForReport('drift-batch.csv');
  assert.match(await page.locator('#drift-performance-title').innerText(), /50 resamples, seed 9\)$/);
  assert.equal((await drift.performance())['ROC-AUC'].low, cli50.performance.roc_auc.ci_low);

  assert.deepEqual(await app.unusableControls(), [], 'every control has a name and keyboard focus');
  await screenshots(app, ['drift']);
  await page.setViewportSize({ width: 390, height: 844 });
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
    'no sideways scrolling at phone width');
  await page.setViewportSize({ width: 1280, height: 800 });

  // The same batch generated in the page: the generator writes the CLI's file row for row, so
  // the report is the same.
  await drift.generate({ rows: ROWS, seed: 2, drift: 0.5 });
  await drift.waitForBatch('generated: 4,000 customers, seed 2, drift 0.5');
  await drift.compare({ bootstrap: 200, seed: 42 });
  await drift.waitForReport('generated: 4,000 customers');
  const generated = await drift.rows();
  assert.deepEqual(flagged(generated), SHIFTED);
  assert.deepEqual(generated, cliRows(cli), 'the generated batch gives the uploaded file\'s numbers');

  // Bad input: core's own messages.
  await drift.generate({ rows: ROWS, seed: 2, drift: 1.5 });
  assert.match(await app.errorText(), /^generating the batch: parameter `drift`: 1\.5 is outside 0\.\.=1/);
  const noPlan = join(work, 'no-plan.csv');
  edited(batch, noPlan, (cells, names) => cells.filter((_, i) => names[i] !== 'plan'));
  await drift.upload(noPlan, 'no-plan.csv');
  await drift.compare();
  assert.equal(await app.errorText(), 'no-plan.csv: column `plan` is missing');
  // Ages written as words cannot be read: those rows are not scored, as the CLI says why.
  const words = join(work, 'age-in-words.csv');
  edited(batch, words, (cells, names, header) => cells.map((c, i) => (!header && names[i] === 'age' ? 'forty' : c)));
  const cliWords = JSON.parse(ebb('drift', model, words, '--json'));
  await drift.upload(words, 'age-in-words.csv');
  await drift.compare();
  await drift.waitForReport('age-in-words.csv');
  const [, reason] = cliWords.unscored_examples[0];
  assert.match(reason, /^row 1, column `age`: `forty` is not a valid number/);
  await page.locator('li', { hasText: reason }).first().waitFor();
  assert.equal(await drift.recommendationText(), cliWords.recommendation);
}
