// The Fairness view: a group column, the four-fifths limit and the smallest judged group; then
// per group its rates, ratios and flags (at full precision in data-* attributes) and the chart.
export class FairnessPage {
  constructor(page) {
    this.page = page;
    this.summary = page.locator('#fairness-summary');
    this.chart = page.locator('svg#fairness-chart');
  }

  /** Chooses the column and types the limits (any left out keep their value). */
  async choose({ by, minRatio, minGroupSize }) {
    if (by !== undefined) await this.page.locator('#fairness-by').selectOption(by);
    if (minRatio !== undefined) await this.page.locator('#min-ratio').fill(String(minRatio));
    if (minGroupSize !== undefined) await this.page.locator('#min-group-size').fill(String(minGroupSize));
  }

  /** Runs the audit and waits for the worker's answer about `by`. */
  async audit(by) {
    await this.page.locator('#audit').click();
    await this.page.locator('#busy', { hasText: /^$/ }).waitFor({ timeout: 60_000 });
    await this.summary.filter({ hasText: `\`${by}\`` }).waitFor();
  }

  async fieldError(id) {
    return this.page.locator(`#${id}-error`).innerText();
  }

  /** The per-group table as core's `GroupReport`s: numbers from data-value (null where the
   * page shows none), plus whether each ratio cell is marked flagged. */
  async groups() {
    return this.page.locator('#fairness-groups tbody tr').evaluateAll((rows) => rows.map((tr) => {
      const g = { group: tr.dataset.group, judged: tr.dataset.judged === 'true', flaggedCells: [] };
      for (const td of tr.querySelectorAll('td[data-field]')) {
        g[td.dataset.field] = td.dataset.value === '' ? null : Number(td.dataset.value);
        if (td.dataset.flagged === 'true') g.flaggedCells.push(td.dataset.field);
      }
      return g;
    }));
  }

  /** The flags listed, as core's `FairnessFlag`s. */
  async flags() {
    return this.page.locator('#fairness-flags li').evaluateAll((items) => items.map((li) => ({
      group: li.dataset.group, ratio: li.dataset.ratio, value: Number(li.dataset.value),
    })));
  }

  /** Text of the flagged ratio cells and their colour (to check the flags are not colour only). */
  async flaggedCells() {
    return this.page.locator('#fairness-groups td.flagged').evaluateAll((cells) => cells.map((td) => ({
      text: td.innerText, color: getComputedStyle(td).color,
    })));
  }

  async smallNote() {
    return this.page.locator('#fairness-small').innerText();
  }

  /** Tooltips of the chart's bars. */
  async barTips() {
    return this.chart.locator('rect title').allTextContents();
  }
}
