// The Data view: choose a file, read the summary and the quality report.
export class DataPage {
  constructor(page) {
    this.page = page;
    this.summary = page.locator('#data-summary');
    this.quality = page.locator('#quality');
  }

  /** `file` is a path or `{ name, mimeType, buffer }`. */
  async upload(file) {
    await this.page.locator('#file').setInputFiles(file);
  }

  /** Generates demo customers with the default settings. */
  async generate() {
    await this.page.locator('#generate').click();
  }

  async summaryText() {
    await this.summary.waitFor();
    return this.summary.innerText();
  }

  async qualityRows() {
    return this.quality.locator('tbody tr').count();
  }
}
