// Files that cannot be used get a specific message on the page, and nothing else breaks.
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, ftruncateSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from '../pages/app.mjs';
import { DataPage } from '../pages/data.mjs';
import { TrainPage } from '../pages/train.mjs';

const csv = (name, text) => ({ name, mimeType: 'text/csv', buffer: Buffer.from(text) });

/** An image saved as .csv by mistake: a PNG signature, then deterministic noise. */
function binary(n) {
  const out = Buffer.alloc(n);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(out);
  let x = 12345;
  for (let i = 8; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const cases = [
  ['an empty file', csv('empty.csv', ''), /empty\.csv: .*no data rows/],
  ['a binary file', { name: 'photo.csv', mimeType: 'application/octet-stream', buffer: binary(4096) },
    /photo\.csv: .*not a text file/],
  ['ragged rows', csv('ragged.csv', 'a,b,churn\n1,2,yes\n3,4\n'), /ragged\.csv: row 2: expected 3 fields .* found 2/],
  ['one class only', csv('one.csv', 'tenure,fee,churn\n1,20,no\n2,30,no\n3,25,no\n'),
    /one\.csv: target column `churn`: .*needs both outcomes/],
];

export const name = 'bad input: a message that says what to fix';

export async function run({ page, baseUrl, screenshots }) {
  const app = new App(page);
  const data = new DataPage(page);
  await app.open(baseUrl);
  for (const [what, file, message] of cases) {
    await data.upload(file);
    const text = await app.errorText();
    assert.match(text, message, `${what}: ${text}`);
    assert.equal(await data.summary.count(), 0, `${what}: no data summary`);
  }
  await screenshots(app, ['data'], 'bad-input');

  // A file over the 1 GB cap is refused before it is read (a sparse file: no disk used).
  const dir = mkdtempSync(join(tmpdir(), 'ebb-big-'));
  const big = join(dir, 'huge.csv');
  const fd = openSync(big, 'w');
  ftruncateSync(fd, 1_200_000_000);
  closeSync(fd);
  try {
    await data.upload(big);
    const refusal = page.locator('#notice.error', { hasText: 'huge.csv' });
    assert.match(await refusal.innerText(), /huge\.csv: the file is 1\.2 GB; the dashboard reads files up to 1 GB/);
    assert.equal(await data.summary.count(), 0, 'no data summary for a refused file');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  // A file without a target column loads, and Train says what is missing.
  await data.upload(csv('no-target.csv', 'customer,tenure,fee\na,1,20\nb,2,30\nc,3,25\n'));
  assert.match(await data.summaryText(), /3 rows × 3 columns/);
  await app.show('train');
  assert.ok(await new TrainPage(page).trainButton.isDisabled(), 'Train is disabled without a target');
  assert.match(await page.locator('.hint').first().innerText(), /no target column/);
}
