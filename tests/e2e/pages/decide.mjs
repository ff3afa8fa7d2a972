// The Decide view: business inputs, the recommended threshold, the contact list and its CSV.
import { readFileSync } from 'node:fs';

export class DecidePage {
  constructor(page) {
    this.page = page;
    this.decideButton = page.locator('#decide');
    this.summary = page.locator('#decision-summary');
    this.chart = page.locator('svg#profit');
    this.contacts = page.locator('#contact-list tbody tr');
  }

  /** Types the business inputs (any left out keep their value). */
  async setInputs({ cost, value, successRate, capacity }) {
    const fields = { cost, value, 'success-rate': successRate, capacity };
    for (const [id, v] of Object.entries(fields)) {
      if (v !== undefined) await this.page.locator(`#${id}`).fill(String(v));
    }
  }

  /** Asks for the decision and waits until the worker has answered. */
  async decide() {
    await this.decideButton.click();
    await this.page.locator('#busy', { hasText: /^$/ }).waitFor({ timeout: 300_000 });
    await this.summary.waitFor();
  }

  /** What the page says the worker is doing (empty when idle). */
  async working() {
    return this.page.locator('#busy').innerText();
  }

  /** The message shown next to a field (empty when it is fine). */
  async fieldError(id) {
    return this.page.locator(`#${id}-error`).innerText();
  }

  /** The recommended threshold and its expected profit, at full precision. */
  async recommended() {
    const value = async (id) => Number(await this.page.locator(`#${id}`).getAttribute('data-value'));
    return { threshold: await value('best-threshold'), profit: await value('best-profit') };
  }

  /** Clicks the download button; returns the file's suggested name and text. */
  async downloadContacts() {
    const [download] = await Promise.all([
      this.page.waitForEvent('download'),
      this.page.locator('#download-contacts').click(),
    ]);
    return { name: download.suggestedFilename(), text: readFileSync(await download.path(), 'utf8') };
  }
}
