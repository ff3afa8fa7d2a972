// The What-if view: start from a customer or a blank form, edit fields, read the answer.
import { readFileSync } from 'node:fs';

export class WhatIfPage {
  constructor(page) {
    this.page = page;
    this.result = page.locator('#whatif-result');
    this.error = page.locator('#whatif-error');
  }

  /** Number of the edit the answer shown is for ('' before any). */
  async seq() {
    if (!(await this.result.count())) return '';
    return (await this.result.getAttribute('data-seq')) ?? '';
  }

  /** Waits until the answer shown is newer than edit `previous` and no edit is in the worker. */
  async settled(previous) {
    await this.page.waitForFunction((prev) => {
      const el = document.querySelector('#whatif-result');
      return el && el.dataset.seq && el.dataset.seq !== prev && el.getAttribute('aria-busy') === 'false';
    }, previous);
  }

  /** Starts from data row `row` (or a customer id) of the loaded file. */
  async startFrom(customer) {
    const previous = await this.seq();
    await this.page.locator('#whatif-customer').fill(String(customer));
    await this.page.locator('#whatif-load').click();
    await this.settled(previous);
  }

  async blank() {
    const previous = await this.seq();
    await this.page.locator('#whatif-blank').click();
    await this.settled(previous);
  }

  field(name) {
    return this.page.locator(`.whatif-field[data-name="${name}"]`);
  }

  /** The control holding `name`'s value (number box, select or date picker). */
  control(name) {
    return this.field(name).locator('input[type=text], input[type=date], select').first();
  }

  /** Sets `name` to `value` and waits for the answer. */
  async set(name, value) {
    const previous = await this.seq();
    const control = this.control(name);
    if ((await control.evaluate((el) => el.tagName)) === 'SELECT') await control.selectOption(value);
    else await control.fill(value);
    await this.settled(previous);
  }

  /** Types `text` key by key into `name`'s box (emptied first); after each key, waits for the
   * answer to that key and records the probability shown. */
  async typeInto(name, text) {
    const control = this.control(name);
    const previous = await this.seq();
    await control.fill('');
    await this.settled(previous);
    const seen = [];
    for (const key of text) {
      const before = await this.seq();
      await control.press(key);
      await this.settled(before);
      seen.push(await this.probability());
    }
    return seen;
  }

  /** Moves `name`'s slider with the keyboard (`key`: ArrowRight, End, ...); returns the value
   * the number box then shows. */
  async slide(name, key) {
    const previous = await this.seq();
    await this.field(name).locator('input[type=range]').press(key);
    await this.settled(previous);
    return this.control(name).inputValue();
  }

  async value(name) {
    return this.control(name).inputValue();
  }

  /** The probability shown, full precision. */
  async probability() {
    return Number(await this.page.locator('#whatif-probability').getAttribute('data-value'));
  }

  async decision() {
    return this.page.locator('#whatif-decision').innerText();
  }

  async band() {
    return this.page.locator('#whatif-band').innerText();
  }

  async reasons() {
    return this.page.locator('#whatif-reasons li').allInnerTexts();
  }

  /** The suggestion for the answer shown: its note and its steps. */
  async suggestion() {
    const seq = await this.seq();
    const box = this.page.locator(`#whatif-suggestion[data-seq="${seq}"]`);
    await box.waitFor();
    return { note: await box.locator('p').innerText(), steps: await box.locator('li').allInnerTexts() };
  }

  async applySuggestion() {
    const previous = await this.seq();
    await this.page.locator('#whatif-apply').click();
    await this.settled(previous);
  }

  async errorText() {
    await this.error.waitFor();
    return this.error.innerText();
  }
}

/** Data row `n` (1-based) of a simple quoted CSV as `ebb whatif --record` takes it: the raw
 * cells as strings, the target left out. */
export function customerRecord(csvPath, n, target) {
  const split = (line) => line.split(',').map((cell) => cell.replace(/^"(.*)"$/, '$1'));
  const lines = readFileSync(csvPath, 'utf8').split(/\r?\n/);
  const names = split(lines[0]);
  const cells = split(lines[n]);
  return Object.fromEntries(names.map((k, i) => [k, cells[i]]).filter(([k]) => k !== target));
}
