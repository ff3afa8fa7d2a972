// Explaining a model in the page gives the CLI's numbers: a model `ebb train` wrote, uploaded ->
// Explain -> the importance ranking and values equal `ebb explain MODEL DATA --json` -> the
// summary and dependence plots draw the stated samples -> customers found by row number and by
// id: each waterfall adds up to the model's output and equals `ebb explain --row`; unknown ids
// and rows get a message saying what to type.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from '../pages/app.mjs';
import { DataPage } from '../pages/data.mjs';
import { ModelsPage } from '../pages/models.mjs';
import { ExplainPage } from '../pages/explain.mjs';

export const name = 'explain: importance, summary, dependence and waterfalls equal ebb explain';

const ebb = (...args) => execFileSync('./target/release/ebb', args, { encoding: 'utf8' });
const close = (a, b, tolerance = 1e-9) => Math.abs(a - b) <= tolerance;

/** The page's waterfall against `ebb explain MODEL DATA --row ROW --json`. */
function sameAsCli(shown, cli) {
  const sum = shown.steps.reduce((s, x) => s + x.contribution, shown.base);
  assert.ok(close(sum, shown.raw), `base + contributions ${sum} vs model output ${shown.raw}`);
  assert.ok(close(shown.raw, cli.raw_score), `raw ${shown.raw} vs CLI ${cli.raw_score}`);
  assert.ok(close(shown.base, cli.base_value), `base ${shown.base} vs CLI ${cli.base_value}`);
  assert.ok(close(shown.probability, cli.probability), `p ${shown.probability} vs CLI ${cli.probability}`);
  assert.deepEqual(shown.steps.map((s) => s.column), cli.contributions.map((c) => c.column));
  for (const [i, c] of cli.contributions.entries()) {
    assert.ok(close(shown.steps[i].contribution, c.contribution),
      `${c.column}: page ${shown.steps[i].contribution} vs CLI ${c.contribution}`);
  }
}

export async function run({ page, baseUrl, churnCsv, cliTrain, screenshots, work }) {
  const app = new App(page);
  const data = new DataPage(page);
  const models = new ModelsPage(page);
  const explain = new ExplainPage(page);
  const { modelPath, model_id: id } = cliTrain({ families: ['gbdt'], folds: 3, seed: 42 });

  await app.open(baseUrl);
  await data.upload(churnCsv);
  await data.summaryText();
  await app.show('models');
  await models.upload(modelPath);
  assert.equal(await models.currentId(), id);

  await app.show('explain');
  await explain.explain();
  const cli = JSON.parse(ebb('explain', modelPath, churnCsv, '--json'));
  assert.equal(await explain.importanceRows(), cli.rows);
  const shown = await explain.importance();
  assert.deepEqual(shown.map((c) => c.column), cli.importance.map((c) => c.column), 'same ranking as ebb explain');
  for (const [i, c] of cli.importance.entries()) {
    assert.ok(close(shown[i].value, c.mean_abs, 1e-12), `${c.column}: page ${shown[i].value} vs CLI ${c.mean_abs}`);
  }

  // 300 customers by default, one dot each in each of the ten top fields' lanes.
  assert.equal(await explain.sampleRows(), 300);
  const lanes = await explain.beeswarmLanes();
  assert.deepEqual(lanes.map((l) => l.column), cli.importance.slice(0, 10).map((c) => c.column));
  assert.ok(lanes.every((l) => l.dots === 300), JSON.stringify(lanes));
  // The top field's dependence plot comes with the rest; another field's on choosing it.
  const top = await page.locator('#dependence-plot').getAttribute('data-column');
  assert.equal(top, cli.importance[0].column);
  const plan = await explain.dependence('international_plan');
  assert.equal(plan.points, 1000);
  assert.equal(plan.dots, 1000);

  // mlc_churn has no id column: row numbers find customers, anything else is explained.
  await explain.findCustomer('KS');
  assert.match(await app.errorText(), /`KS`: the data has no id column, so give a 1-based row number$/);
  await explain.findCustomer('5001');
  assert.match(await app.errorText(), /there is no data row 5001 \(the file has 5000 data rows\)$/);
  assert.equal(await explain.waterfallChart.count(), 0, 'no chart stays beside the message');
  await explain.findCustomer('7');
  const seventh = await explain.waterfall();
  assert.equal(seventh.row, 7);
  assert.match(seventh.text, /^Data row 7: churn probability /);
  assert.match(seventh.text, /log-odds/);
  sameAsCli(seventh, JSON.parse(ebb('explain', modelPath, churnCsv, '--row', '7', '--json')));
  assert.deepEqual(await app.unusableControls(), [], 'every control has a name and keyboard focus');
  await screenshots(app, ['explain']);

  // Generated customers have an id column: a logistic model, found by id.
  const csv = join(work, 'explain-customers.csv');
  const model = join(work, 'explain-logistic.json');
  ebb('generate', '--rows', '1500', '--seed', '11', '--out', csv);
  ebb('train', csv, '--model', 'logistic', '--folds', '2', '--out', model);
  const lines = readFileSync(csv, 'utf8').split('\n');
  const idAt = lines[0].split(',').indexOf('customer_id');
  const customer = lines[42].split(',')[idAt].replace(/"/g, '');
  await app.show('data');
  await data.upload(csv);
  await page.locator('#data-summary', { hasText: '1,500 rows' }).waitFor();
  await app.show('models');
  await models.upload(model);
  await page.locator('#model-info td', { hasText: 'explain-logistic.json' }).waitFor();
  await app.show('explain');
  await explain.findCustomer('NO-SUCH-CUSTOMER');
  assert.match(await app.errorText(),
    /no customer has `NO-SUCH-CUSTOMER` in the id column `customer_id`, and it is not a data-row number$/);
  await explain.findCustomer(customer);
  const byId = await explain.waterfall();
  assert.equal(byId.row, 42);
  assert.match(byId.text, new RegExp(`^Customer customer_id = ${customer} \\(data row 42\\)`));
  sameAsCli(byId, JSON.parse(ebb('explain', model, csv, '--row', customer, '--json')));
}
