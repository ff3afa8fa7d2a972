// The model's life outside the page: train -> download the model file -> `ebb evaluate`
// accepts it -> corrupt copies are refused with what is wrong -> the model is still listed
// after a reload -> publish it to the local worker -> `POST /v1/predict` gives the probability
// the page showed for that customer -> roll back.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from '../pages/app.mjs';
import { DataPage } from '../pages/data.mjs';
import { TrainPage } from '../pages/train.mjs';
import { ModelsPage } from '../pages/models.mjs';

export const name = 'models: download, evaluate, upload, keep, publish, predict, roll back';

const json = (name, text) => ({ name, mimeType: 'application/json', buffer: Buffer.from(text) });

/** Data row `n` (1-based, after the header) of a simple quoted CSV as a JSON record of its raw
 * cells, without the target: what a caller of `/v1/predict` sends for that customer. */
function record(csvPath, n, target) {
  const split = (line) => line.split(',').map((cell) => cell.replace(/^"(.*)"$/, '$1'));
  const lines = readFileSync(csvPath, 'utf8').split(/\r?\n/);
  const names = split(lines[0]);
  const cells = split(lines[n]);
  return Object.fromEntries(names.map((k, i) => [k, cells[i]]).filter(([k]) => k !== target));
}

export async function run({ page, baseUrl, churnCsv, screenshots, tokens, work, allowConsoleError }) {
  const app = new App(page);
  const data = new DataPage(page);
  const train = new TrainPage(page);
  const models = new ModelsPage(page);
  const ebb = (...args) => execFileSync('./target/release/ebb', args, { encoding: 'utf8' });

  await app.open(baseUrl);
  await data.upload(churnCsv);
  await data.summaryText();
  await app.show('train');
  await train.choose({ families: ['gbdt'], folds: 3, seed: 42 });
  await train.train();

  await app.show('models');
  const id = await models.currentId();
  assert.equal(await models.currentOrigin(), 'trained here');
  const file = join(work, 'downloaded.json');
  assert.equal(await models.download(file), `model-${id}.json`);
  // execFileSync throws on a non-zero exit, with the command's stderr.
  const evaluated = ebb('evaluate', file, churnCsv);
  assert.match(evaluated, new RegExp(`^model ${id} on .* \\(5000 rows\\)`));
  assert.match(evaluated, /roc_auc|ROC-AUC/i);

  // The threshold's first decimal changed: valid JSON, but not the file that was stamped. (Its
  // last digit would not do: a 17th significant digit often parses to the same number.)
  const text = readFileSync(file, 'utf8');
  const tampered = text.replace(/\n  "threshold": 0\.(\d)/, (_, first) =>
    `\n  "threshold": 0.${(Number(first) + 1) % 10}`);
  assert.notEqual(tampered, text, 'the threshold line was found and changed');
  await models.upload(json('tampered.json', tampered));
  assert.match(await app.errorText(), /^tampered\.json: model artifact: content hash mismatch .*: the file was modified or corrupted; choose the file as ebb train wrote it or as Download model saved it$/);
  await models.upload(json('notes.json', 'these are my notes, not a model'));
  assert.match(await app.errorText(), /^notes\.json: model artifact: not a model artifact \(invalid JSON: .*\); choose the file as ebb train wrote it/);
  assert.equal(await models.currentId(), id, 'a refused file leaves the current model as it was');
  await models.upload(file);
  await page.locator('#model-info td', { hasText: 'downloaded.json' }).waitFor();
  assert.equal(await models.currentId(), id);

  // Kept across a reload: the worker starts empty, the browser's list remembers.
  await page.reload();
  await page.locator('#tab-data').waitFor();
  await app.show('models');
  assert.ok((await models.recentIds()).includes(id), `${id} is among the recent models`);
  await models.use(id);
  await app.show('data');
  await data.upload(churnCsv);
  await data.summaryText();
  await app.show('models');
  const row = 7;
  const shown = await models.probability(row);
  assert.ok(shown > 0 && shown < 1, `probability ${shown}`);

  // Cancel stops the training and keeps the worker: the loaded model is still current in it.
  await app.show('train');
  await train.trainButton.click();
  await train.cancel();
  await app.show('models');
  assert.equal(await models.currentId(), id);
  // Another row first, so the answer for `row` is a new one from the worker.
  assert.ok(await models.probability(row + 1) > 0);
  assert.equal(await models.probability(row), shown, 'the same probability after Cancel');

  // Another model is active already (published as `ebb publish --activate` does), so the
  // page's activation has something to roll back to.
  const other = join(work, 'other.json');
  ebb('train', churnCsv, '--model', 'logistic', '--folds', '2', '--seed', '7', '--out', other);
  const otherId = JSON.parse(readFileSync(other, 'utf8')).model_id;
  ebb('publish', other, '--to', baseUrl, '--token', tokens.admin, '--activate');

  allowConsoleError(/status of 401 .*\/v1\/models\//, 'the PUT with a wrong admin token');
  await models.connect(baseUrl, 'not-the-admin-token');
  assert.match(await models.publish(), /^the admin token was refused: /);
  await models.connect(baseUrl, tokens.admin);
  assert.match(await models.publish(), new RegExp(`^Published ${id} \\(new version\\), not active`));
  assert.equal(await models.activeVersion(), otherId);
  assert.match(await models.activate(id), new RegExp(`^Activated ${id} \\(before: ${otherId}\\)`));
  assert.equal(await models.activeVersion(), id);

  const answer = await fetch(`${baseUrl}/v1/predict`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tokens.api}`, 'content-type': 'application/json' },
    body: JSON.stringify(record(churnCsv, row, 'churn')),
  });
  const predicted = await answer.json();
  assert.equal(answer.status, 200, JSON.stringify(predicted));
  assert.equal(predicted.model_version, id);
  assert.ok(Math.abs(shown - predicted.probability) <= 1e-12,
    `page ${shown} vs POST /v1/predict ${predicted.probability}`);

  assert.match(await models.rollback(), new RegExp(`^Rolled back to ${otherId} \\(before: ${id}\\)`));
  assert.equal(await models.activeVersion(), otherId);

  assert.deepEqual(await app.unusableControls(), [], 'every control has a name and keyboard focus');
  await screenshots(app, ['models']);

  // The page writes a model file byte for byte as the CLI does: `ebb train`'s file, loaded
  // and downloaded again, is unchanged.
  await models.upload(other);
  await page.locator('#model-info td', { hasText: otherId }).waitFor();
  const again = join(work, 'other-again.json');
  await models.download(again);
  assert.ok(readFileSync(again).equals(readFileSync(other)), 'the downloaded file equals ebb train --out');

  // Forgotten for good: gone from the list, and still gone after a reload.
  await models.forget(id);
  await page.reload();
  await page.locator('#tab-data').waitFor();
  await app.show('models');
  await page.locator('#recent-models, #no-recent').first().waitFor();
  assert.ok(!(await models.recentIdsNow()).includes(id), `${id} was deleted`);
}
