// The Evaluate view: ROC chart, threshold slider, metrics at the threshold.
export class EvaluatePage {
  constructor(page) {
    this.page = page;
    this.chart = page.locator('svg#roc');
    this.slider = page.locator('#threshold');
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
