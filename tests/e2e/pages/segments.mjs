// The Segments view: k and customer value; then one card per persona (numbers at full precision
// in data-* attributes), the size-against-risk chart, and the model report download.
import { readFileSync } from 'node:fs';

export class SegmentsPage {
  constructor(page) {
    this.page = page;
    this.summary = page.locator('#segments-summary');
    this.chart = page.locator('svg#segments-chart');
  }

  /** Types k (empty: chosen by silhouette) and the value (a number, or `{ column, horizon }`). */
  async choose({ k, value }) {
    if (k !== undefined) await this.page.locator('#segment-k').fill(String(k));
    if (typeof value === 'object') {
      await this.page.locator('#segment-value-column').selectOption(value.column);
      await this.page.locator('#segment-horizon').fill(String(value.horizon));
    } else if (value !== undefined) {
      await this.page.locator('#segment-value-column').selectOption('');
      await this.page.locator('#segment-value').fill(String(value));
    }
  }

  async find() {
    await this.page.locator('#segment').click();
    await this.page.locator('#busy', { hasText: /^$/ }).waitFor({ timeout: 60_000 });
    await this.summary.waitFor();
  }

  async fieldError(id) {
    return this.page.locator(`#${id}-error`).innerText();
  }

  /** k and silhouette as shown, at full precision. */
  async headline() {
    const k = Number(await this.summary.getAttribute('data-k'));
    const silhouette = Number(await this.summary.getAttribute('data-silhouette'));
    return { k, silhouette, text: await this.summary.innerText() };
  }

  /** The persona cards as core's `Segment`s. */
  async personas() {
    return this.page.locator('#personas .persona').evaluateAll((cards) => cards.map((c) => ({
      id: Number(c.dataset.id),
      size: Number(c.dataset.size),
      share: Number(c.dataset.share),
      mean_risk: Number(c.dataset.meanRisk),
      mean_value: Number(c.dataset.meanValue),
      value_at_risk: Number(c.dataset.valueAtRisk),
      distinctions: [...c.querySelectorAll('.traits li')].map((li) => ({
        feature: li.dataset.feature,
        standardised_difference: Number(li.dataset.sd),
        segment_mean: Number(li.dataset.segmentMean),
        overall_mean: Number(li.dataset.overallMean),
      })),
    })));
  }

  /** Chooses the report's fairness column ('' for none), clicks the download and returns the
   * file's suggested name and text. */
  async downloadReport(by = '') {
    await this.page.locator('#report-by').selectOption(by);
    const [download] = await Promise.all([
      this.page.waitForEvent('download', { timeout: 60_000 }),
      this.page.locator('#download-report').click(),
    ]);
    return { name: download.suggestedFilename(), text: readFileSync(await download.path(), 'utf8') };
  }
}
