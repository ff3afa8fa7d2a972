// Groups of customers: upload the churn file and a model `ebb train` wrote -> Fairness by a
// column: every group's rates, ratios and flags equal `ebb fairness --json`'s, flags are said
// in text as well as colour, small groups are noted -> Segments: the personas equal
// `ebb segment --json`'s, with a constant value and with a value column -> the downloaded model
// report is the file `ebb report` writes, byte for byte.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { App } from '../pages/app.mjs';
import { DataPage } from '../pages/data.mjs';
import { ModelsPage } from '../pages/models.mjs';
import { FairnessPage } from '../pages/fairness.mjs';
import { SegmentsPage } from '../pages/segments.mjs';
import { DecidePage } from '../pages/decide.mjs';

export const name = 'groups: fairness, segments, report';

const GROUP_FIELDS = ['size', 'flagged', 'positive_rate', 'churn_rate', 'precision', 'recall',
  'false_positive_rate', 'positive_rate_ratio', 'precision_ratio', 'recall_ratio', 'fpr_ratio'];

export async function run({ page, baseUrl, churnCsv, cliTrain, screenshots, work }) {
  const app = new App(page);
  const data = new DataPage(page);
  const models = new ModelsPage(page);
  const fairness = new FairnessPage(page);
  const segments = new SegmentsPage(page);
  const ebb = (...args) => execFileSync('./target/release/ebb', args, { encoding: 'utf8' });
  const model = cliTrain({ families: ['logistic'], folds: 3, seed: 42 }).modelPath;

  await app.open(baseUrl);
  await data.upload(churnCsv);
  await data.summaryText();
  await app.show('models');
  await models.upload(model);
  await page.locator('#model-info td', { hasText: basename(model) }).waitFor();

  // A decision with the uploaded model, to see that a refused request below leaves it alone.
  await app.show('decide');
  const decide = new DecidePage(page);
  await decide.decide();
  const decided = await decide.recommended();

  // Fairness: the inputs are checked on the page, the column by core.
  await app.show('fairness');
  assert.deepEqual(await app.unusableControls(), []);
  assert.equal(await page.locator('#min-ratio').inputValue(), '0.8', "ebb fairness's default");
  assert.equal(await page.locator('#min-group-size').inputValue(), '30', "ebb fairness's default");
  await page.locator('#audit').click();
  assert.match(await fairness.fieldError('fairness-by'), /choose the column/);
  await fairness.choose({ by: 'state', minRatio: 1.5 });
  await page.locator('#audit').click();
  assert.match(await fairness.fieldError('min-ratio'), /from 0 to 1/);
  assert.equal(await fairness.fieldError('fairness-by'), '');
  await fairness.choose({ minRatio: 0.8 });
  await page.locator('#audit').click();
  assert.match(await app.errorText(), /column `state` has more than 50 distinct values/);
  await app.show('decide');
  assert.deepEqual(await decide.recommended(), decided, 'a refused audit keeps the decision made with the uploaded model');
  await app.show('fairness');

  const audits = [
    { by: 'international_plan', minRatio: 0.8, minGroupSize: 30, small: 0 },
    { by: 'area_code', minRatio: 0.97, minGroupSize: 1250, small: 1 },
  ];
  for (const a of audits) {
    await fairness.choose(a);
    await fairness.audit(a.by);
    const cli = JSON.parse(ebb('fairness', model, churnCsv, '--by', a.by, '--min-ratio', String(a.minRatio),
      '--min-group-size', String(a.minGroupSize), '--json'));
    const shown = await fairness.groups();
    assert.deepEqual(shown.map((g) => g.group), cli.groups.map((g) => g.group), `${a.by}: the groups of ebb fairness`);
    for (const [i, g] of cli.groups.entries()) {
      for (const field of GROUP_FIELDS) {
        assert.equal(shown[i][field], g[field], `${a.by} ${g.group} ${field} = ebb fairness`);
      }
      assert.equal(shown[i].judged, g.judged, `${a.by} ${g.group} judged = ebb fairness`);
      const flagged = cli.flags.filter((f) => f.group === g.group).map((f) => f.ratio).sort();
      assert.deepEqual(shown[i].flaggedCells.sort(), flagged, `${a.by} ${g.group}: the cells marked are ebb fairness's flags`);
    }
    assert.ok(cli.flags.length > 0, `${a.by} at ${a.minRatio} has flags to show`);
    assert.deepEqual(await fairness.flags(), cli.flags, `${a.by}: the flags of ebb fairness`);
    for (const cell of await fairness.flaggedCells()) {
      assert.match(cell.text, new RegExp(`under ${a.minRatio}`), 'a flag is said in words');
      assert.equal(cell.color, 'rgb(198, 40, 40)', 'and in colour');
    }
    assert.equal(cli.groups.filter((g) => !g.judged).length, a.small);
    if (a.small) assert.match(await fairness.smallNote(), /1 group under 1,250 customers is reported but not judged/);
    const tips = await fairness.barTips();
    assert.equal(tips.length, 4 * cli.groups.length, 'four rates per group, each with a tooltip');
    assert.ok(tips.some((t) => t.startsWith(`${cli.groups[0].group}`) && t.includes('selection rate')), tips[0]);
  }

  // Segments: k is checked on the page; the personas are ebb segment's.
  await app.show('segments');
  assert.deepEqual(await app.unusableControls(), []);
  await segments.choose({ k: 1 });
  await page.locator('#segment').click();
  assert.match(await segments.fieldError('segment-k'), /2 or more, or empty/);
  const runs = [
    { k: '', value: 600, flags: [] },
    { k: 3, value: { column: 'total_day_charge', horizon: 6 }, flags: ['--k', '3', '--value-column', 'total_day_charge', '--horizon-months', '6'] },
  ];
  for (const r of runs) {
    await segments.choose(r);
    await segments.find();
    const cli = JSON.parse(ebb('segment', model, churnCsv, '--json', ...r.flags));
    const { k, silhouette, text } = await segments.headline();
    assert.equal(k, cli.k, 'k = ebb segment');
    assert.equal(silhouette, cli.silhouette, 'silhouette = ebb segment');
    assert.match(text, new RegExp(`^${cli.customers.toLocaleString('en-US')} customers in ${cli.k} segments`));
    const shown = await segments.personas();
    const expected = cli.segments.map((s) => ({
      id: s.id, size: s.size, share: s.share, mean_risk: s.mean_risk, mean_value: s.mean_value,
      value_at_risk: s.value_at_risk,
      distinctions: s.distinctions.map((d) => ({
        feature: d.feature, standardised_difference: d.standardised_difference,
        segment_mean: d.segment_mean, overall_mean: d.overall_mean,
      })),
    }));
    assert.deepEqual(shown, expected, `personas = ebb segment ${r.flags.join(' ')}`);
    assert.equal(await segments.chart.locator('circle title').count(), cli.k, 'one bubble with a tooltip per segment');
  }

  // The report: the page ebb report writes, byte for byte (it embeds no time).
  const file = await segments.downloadReport('area_code');
  const out = join(work, 'report.html');
  ebb('report', model, churnCsv, '--out', out, '--by', 'area_code');
  const expected = readFileSync(out, 'utf8');
  assert.match(file.name, /^report-m-[0-9a-f]+\.html$/);
  assert.ok(file.text.includes('area_code_415'), 'the fairness table by area_code is in it');
  assert.equal(file.text, expected, 'the downloaded report is the file ebb report writes');

  await screenshots(app, ['fairness', 'segments']);
}
