// The Explain view: global importance, the SHAP summary, a dependence plot and one customer's
// waterfall (full-precision numbers from data-* attributes).
export class ExplainPage {
  constructor(page) {
    this.page = page;
    this.importanceChart = page.locator('svg#importance');
    this.beeswarm = page.locator('svg#beeswarm');
    this.waterfallChart = page.locator('svg#waterfall');
  }

  async idle() {
    await this.page.locator('#busy', { hasText: /^$/ }).waitFor({ timeout: 300_000 });
  }

  /** Sets the row counts (any left out keep their value), explains, waits for every chart. */
  async explain({ rows, sample } = {}) {
    if (rows !== undefined) await this.page.locator('#explain-rows').fill(String(rows));
    if (sample !== undefined) await this.page.locator('#explain-sample').fill(String(sample));
    await this.page.locator('#explain').click();
    await this.beeswarm.waitFor({ timeout: 300_000 });
    await this.page.locator('#dependence-plot').waitFor({ timeout: 300_000 });
    await this.idle();
  }

  /** Rows the importance was computed on, as the page says. */
  async importanceRows() {
    return Number(await this.page.locator('#importance-note').getAttribute('data-rows'));
  }

  /** The importance bars, top first: `{ column, value }` with value at full precision. */
  async importance() {
    return this.importanceChart.locator('g.importance').evaluateAll((gs) =>
      gs.map((g) => ({ column: g.dataset.column, value: Number(g.dataset.value) })));
  }

  async sampleRows() {
    return Number(await this.page.locator('#sample-note').getAttribute('data-rows'));
  }

  /** Dots per field of the summary plot, top field first. */
  async beeswarmLanes() {
    return this.beeswarm.locator('g.lane').evaluateAll((gs) =>
      gs.map((g) => ({ column: g.dataset.column, dots: g.querySelectorAll('circle').length })));
  }

  /** Chooses `field` for the dependence plot and waits for its points. */
  async dependence(field) {
    await this.page.locator('#dependence-field').selectOption(field);
    const plot = this.page.locator(`#dependence-plot[data-column="${field}"]`);
    await plot.waitFor();
    await this.idle();
    return { points: Number(await plot.getAttribute('data-points')),
      dots: await plot.locator('circle.dot').count() };
  }

  /** Searches a customer (id or row number); waits for the waterfall or an error message. */
  async findCustomer(text) {
    await this.page.locator('#customer').fill(text);
    await this.page.locator('#find-customer').click();
    await this.page.locator('#customer-result, #notice.error').first().waitFor();
    await this.idle();
  }

  /** The customer shown: headline, probability, base value, raw output and every step. */
  async waterfall() {
    const result = this.page.locator('#customer-result');
    return {
      text: await result.innerText(),
      row: Number(await result.getAttribute('data-row')),
      probability: Number(await result.getAttribute('data-probability')),
      base: Number(await this.waterfallChart.getAttribute('data-base')),
      raw: Number(await this.waterfallChart.getAttribute('data-raw')),
      steps: await this.waterfallChart.locator('g.step').evaluateAll((gs) =>
        gs.map((g) => ({ column: g.dataset.column, contribution: Number(g.dataset.contribution) }))),
    };
  }
}
