// What-if on a customer, as `ebb whatif` answers it: upload the churn file and `ebb train`'s
// model -> start from a customer -> each key typed re-scores at once -> the slider works from the
// keyboard -> every answer equals `ebb whatif MODEL --record ... --set ...` -> the suggestion is
// the CLI's and applying it gives the probability it promised -> a bad value is named -> a blank
// form from the model's schema scores as the CLI scores an empty record.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { App } from '../pages/app.mjs';
import { DataPage } from '../pages/data.mjs';
import { ModelsPage } from '../pages/models.mjs';
import { WhatIfPage, customerRecord } from '../pages/whatif.mjs';

export const name = 'whatif: customer edits as you type, suggestion, blank form';

const close = (page, cli, what) =>
  assert.ok(Math.abs(page - cli) <= 1e-12, `${what}: page ${page} vs ebb whatif ${cli}`);

export async function run({ page, baseUrl, churnCsv, cliTrain, screenshots }) {
  const app = new App(page);
  const data = new DataPage(page);
  const models = new ModelsPage(page);
  const whatif = new WhatIfPage(page);
  const { modelPath } = cliTrain({ families: ['gbdt'], folds: 3, seed: 42 });
  /** `ebb whatif` on the same model: its JSON. */
  const cli = (record, sets, actionable = []) => JSON.parse(execFileSync('./target/release/ebb', [
    'whatif', modelPath, '--record', JSON.stringify(record),
    ...sets.flatMap(([k, v]) => ['--set', `${k}=${v}`]),
    ...(actionable.length ? ['--actionable', actionable.join(',')] : []), '--json',
  ], { encoding: 'utf8' }));

  await app.open(baseUrl);
  await data.upload(churnCsv);
  await data.summaryText();
  await app.show('models');
  await models.upload(modelPath);
  await page.locator('#model-info td', { hasText: 'cli-' }).waitFor();
  await app.show('whatif');

  const row = 7;
  const record = customerRecord(churnCsv, row, 'churn');
  await whatif.startFrom(row);
  const fields = await page.locator('.whatif-field').evaluateAll((els) => els.map((e) => e.dataset.name));
  assert.ok(fields.length >= 18 && !fields.includes('churn'), `the model's inputs: ${fields}`);
  assert.equal(await whatif.value('total_day_minutes'), record.total_day_minutes);
  const start = cli(record, []);
  close(await whatif.probability(), start.after.probability, 'the customer as loaded');

  // Typed key by key: each key gets its own answer, no submit.
  const typed = await whatif.typeInto('total_day_minutes', '315');
  assert.equal(typed.length, 3);
  assert.ok(new Set(typed).size >= 2, `the probability moved while typing: ${typed}`);
  const sets = [['total_day_minutes', '315']];
  let expected = cli(record, sets);
  close(await whatif.probability(), expected.after.probability, 'after typing 315');
  close(typed[2], expected.after.probability, 'the answer to the last key');
  assert.deepEqual(await whatif.reasons(), expected.reasons.map((r) => r.text));
  assert.match(await whatif.decision(), expected.after.decision ? /^contact: at or above/ : /^no contact: below/);
  assert.match(await whatif.band(), new RegExp(`^Risk band: ${expected.after.risk_band}`));

  // The slider, from the keyboard: End goes to the top of its range.
  const top = await whatif.slide('number_customer_service_calls', 'End');
  assert.notEqual(top, record.number_customer_service_calls);
  sets.push(['number_customer_service_calls', top]);
  await whatif.set('international_plan', 'yes');
  sets.push(['international_plan', 'yes']);
  await whatif.set('voice_mail_plan', 'no');
  sets.push(['voice_mail_plan', 'no']);
  expected = cli(record, sets, fields);
  close(await whatif.probability(), expected.after.probability, `after ${JSON.stringify(sets)}`);
  assert.ok(expected.after.decision, 'these edits take the customer over the threshold');
  assert.match(await whatif.decision(), /^contact: at or above/);

  // What would change it: core's search on the same fields, as the CLI finds it.
  const suggestion = await whatif.suggestion();
  assert.equal(suggestion.note, expected.suggestion_note);
  assert.deepEqual(suggestion.steps, expected.suggestion.changes.map((c) =>
    `set ${c.column} from ${c.from} to ${c.to} → probability ${c.probability_after.toFixed(4)}`));
  assert.ok(expected.suggestion.changes.length > 0, expected.suggestion_note);
  await whatif.applySuggestion();
  close(await whatif.probability(), expected.suggestion.probability_after, 'the suggestion applied');

  // A value the model cannot read is named, in the CLI's words.
  await whatif.control('total_eve_minutes').fill('lots');
  assert.equal(await whatif.errorText(), 'field `total_eve_minutes`: `lots` is not a valid number');
  await whatif.set('total_eve_minutes', record.total_eve_minutes);
  assert.equal(await whatif.error.count(), 0, 'the message goes once the value is read');

  assert.deepEqual(await app.unusableControls(), [], 'every control has a name and keyboard focus');
  await page.setViewportSize({ width: 390, height: 844 });
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), 'no sideways scrolling on a phone');
  await page.setViewportSize({ width: 1280, height: 800 });
  await screenshots(app, ['whatif']);

  // A customer the file does not have is named, with what to type instead.
  await page.locator('#whatif-customer').fill('99999');
  await page.locator('#whatif-load').click();
  assert.equal(await whatif.errorText(), '`99999` is not a customer of mlc_churn.csv: type a row number from 1 to 5000');

  // A blank form from the model's schema: every field missing, then one chosen.
  await whatif.blank();
  assert.equal(await whatif.value('total_day_minutes'), '');
  close(await whatif.probability(), cli({}, []).after.probability, 'the blank form');
  await whatif.set('voice_mail_plan', 'yes');
  close(await whatif.probability(), cli({}, [['voice_mail_plan', 'yes']]).after.probability, 'blank + voice_mail_plan');
  // A level the model kept (the select lists them after "missing").
  const level = await whatif.control('state').locator('option').nth(1).getAttribute('value');
  await whatif.set('state', level);
  close(await whatif.probability(), cli({}, [['voice_mail_plan', 'yes'], ['state', level]]).after.probability,
    `blank + voice_mail_plan + state ${level}`);
  await screenshots(app, ['whatif'], 'whatif-blank');
}
