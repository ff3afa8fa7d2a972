// The Drift view: a newer batch (uploaded or generated with a shift), the comparison with the
// current model's training data, and the report: per-column table, histograms, score drift,
// performance and the recommendation.
export class DriftPage {
  constructor(page) {
    this.page = page;
    this.batch = page.locator('#batch-summary');
    this.columns = page.locator('#drift-columns');
    this.recommendation = page.locator('#drift-recommendation');
  }

  /** `file` is a path or `{ name, mimeType, buffer }`; waits until the batch summary names it. */
  async upload(file, name) {
    await this.page.locator('#batch-file').setInputFiles(file);
    await this.page.locator('#batch-summary', { hasText: name }).waitFor();
  }

  /** Generates a batch as `ebb generate --rows --seed --drift` would; waits until it is held. */
  async generate({ rows, seed, drift }) {
    await this.page.locator('#batch-rows').fill(String(rows));
    await this.page.locator('#batch-seed').fill(String(seed));
    await this.page.locator('#batch-drift').fill(String(drift));
    await this.page.locator('#generate-batch').click();
  }

  async waitForBatch(text) {
    await this.page.locator('#batch-summary', { hasText: text }).waitFor();
  }

  /** Compares the held batch with training (bootstrap settings left as shown unless given) and
   * waits for the report. */
  async compare({ bootstrap, seed } = {}) {
    if (bootstrap !== undefined) await this.page.locator('#drift-bootstrap').fill(String(bootstrap));
    if (seed !== undefined) await this.page.locator('#drift-seed').fill(String(seed));
    await this.page.locator('#check-drift').click();
  }

  async waitForReport(batchName) {
    await this.page.locator('#drift-verdict', { hasText: batchName }).waitFor({ timeout: 60_000 });
  }

  /** The bootstrap fields as shown (the CLI's defaults until changed). */
  async bootstrapSettings() {
    return {
      bootstrap: Number(await this.page.locator('#drift-bootstrap').inputValue()),
      seed: Number(await this.page.locator('#drift-seed').inputValue()),
    };
  }

  /** Every row of the column table, in the order shown, with its full-precision numbers. */
  async rows() {
    const num = (v) => (v === undefined ? null : Number(v));
    const rows = await this.columns.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => ({ ...tr.dataset })));
    return rows.map((d) => ({
      column: d.column,
      verdict: d.verdict,
      psi: num(d.psi),
      p: num(d.p),
      statistic: num(d.statistic),
      distance: num(d.distance),
      missingChange: num(d.missingChange),
    }));
  }

  async recommendationText() {
    return (await this.recommendation.innerText()).trim();
  }

  async datasetVerdict() {
    return this.page.locator('#drift-verdict').getAttribute('data-verdict');
  }

  async scoreDrift() {
    const h = this.page.locator('#score-drift');
    return { psi: Number(await h.getAttribute('data-psi')), verdict: await h.getAttribute('data-verdict') };
  }

  /** ROC-AUC and recall rows of the performance table. */
  async performance() {
    const rows = await this.page.locator('#drift-performance tbody tr').evaluateAll((trs) => trs.map((tr) => ({ ...tr.dataset })));
    return Object.fromEntries(rows.map((d) => [d.metric, {
      current: Number(d.current), low: Number(d.low), high: Number(d.high), training: Number(d.training),
    }]));
  }

  /** Chooses the column the histogram shows; returns the chart's title and its bin names. */
  async plot(column) {
    await this.page.locator('#drift-column').selectOption(column);
    const chart = this.page.locator('#drift-histogram');
    await this.page.locator('#drift-histogram-title', { hasText: `${column}:` }).waitFor({ state: 'attached' });
    return {
      title: await chart.locator('title').first().textContent(),
      // The legend's swatches are inside their own group.
      bars: await chart.evaluate((svg) => svg.querySelectorAll(':scope > rect.bar-current').length),
    };
  }
}
