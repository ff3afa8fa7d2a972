// The Evaluate view: ROC, PR, calibration, lift and gains charts, threshold slider, metrics and
// confusion matrix at the threshold.
export class EvaluatePage {
  constructor(page) {
    this.page = page;
    this.chart = page.locator('svg#roc');
    this.slider = page.locator('#threshold');
  }

  /** The ids of the charts drawn (each an svg with ticks and a title). */
  async charts() {
    return this.page.locator('svg.chart').evaluateAll((svgs) =>
      svgs.filter((s) => s.querySelector('title') && s.querySelectorAll('.tick').length > 0).map((s) => s.id));
  }

  /** The confusion matrix shown: true/false positives and negatives. */
  async confusion() {
    const cell = async (id) => Number((await this.page.locator(`#confusion #${id}`).innerText()).replaceAll(',', ''));
    return { tp: await cell('tp'), fp: await cell('fp'), tn: await cell('tn'), fn: await cell('fn') };
  }

  async metrics() {
    const value = async (id) => Number(await this.page.locator(`#${id}`).getAttribute('data-value'));
    return {
      precision: await value('precision'),
      recall: await value('recall'),
      contacts: await this.page.locator('#contacts').innerText(),
    };
  }

  /** Moves the slider and waits until the metrics shown have changed. */
  async setThreshold(value) {
    const before = await this.metrics();
    await this.slider.fill(String(value));
    await this.page.waitForFunction(
      (old) => document.querySelector('#precision')?.dataset.value !== String(old),
      before.precision,
    );
    return this.metrics();
  }
}
