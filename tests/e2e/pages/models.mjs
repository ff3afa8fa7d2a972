// The Models view: the current model, its download, uploads, recent models, one customer's
// probability, and the registry of an edge API (publish, versions, activate, roll back).
export class ModelsPage {
  constructor(page) {
    this.page = page;
    this.info = page.locator('#model-info');
    this.recent = page.locator('#recent-models');
    this.result = page.locator('#publish-result');
  }

  /** The current model's id (waits until there is one). */
  async currentId() {
    await this.info.waitFor();
    return (await this.info.locator('tr', { hasText: 'Model id' }).locator('td').innerText()).trim();
  }

  async currentOrigin() {
    return (await this.info.locator('tr', { hasText: 'From' }).locator('td').innerText()).trim();
  }

  /** Clicks "Download model" and saves the file to `path`; returns the name the page gave it. */
  async download(path) {
    const [download] = await Promise.all([
      this.page.waitForEvent('download'),
      this.page.locator('#download-model').click(),
    ]);
    await download.saveAs(path);
    return download.suggestedFilename();
  }

  /** `file` is a path or `{ name, mimeType, buffer }`. */
  async upload(file) {
    await this.page.locator('#model-file').setInputFiles(file);
  }

  async recentIds() {
    await this.recent.waitFor();
    return this.recent.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.id));
  }

  /** The ids listed now (none when the list is empty). */
  async recentIdsNow() {
    return this.page.locator('#recent-models tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.id));
  }

  /** Makes the recent model `id` current again. */
  async use(id) {
    await this.recent.locator(`tr[data-id="${id}"] button.use`).click();
    await this.page.locator('#model-info tr', { hasText: id }).waitFor();
  }

  /** Forgets the recent model `id` and waits until the list no longer shows it. */
  async forget(id) {
    await this.recent.locator(`tr[data-id="${id}"] button.delete`).click();
    await this.page.locator(`#recent-models tr[data-id="${id}"]`).waitFor({ state: 'detached' });
  }

  /** The current model's probability for data row `row` (full precision). */
  async probability(row) {
    await this.page.locator('#check-row').fill(String(row));
    await this.page.locator('#check').click();
    const shown = this.page.locator(`#check-probability[data-row="${row}"]`);
    await shown.waitFor();
    return Number(await shown.getAttribute('data-value'));
  }

  async connect(url, token) {
    await this.page.locator('#edge-url').fill(url);
    await this.page.locator('#admin-token').fill(token);
  }

  /** Runs one registry action and returns its outcome line once the versions are listed. */
  async act(button) {
    await button.click();
    await this.result.waitFor();
    await this.page.locator('#publish:not([disabled]), #list-versions:not([disabled])').first().waitFor();
    return this.result.innerText();
  }

  async publish() {
    return this.act(this.page.locator('#publish'));
  }

  async listVersions() {
    return this.act(this.page.locator('#list-versions'));
  }

  async activate(id) {
    return this.act(this.page.locator(`#versions tr[data-version="${id}"] button.activate`));
  }

  async rollback() {
    return this.act(this.page.locator('#rollback'));
  }

  async activeVersion() {
    return (await this.page.locator('#active-version strong').innerText()).trim();
  }
}
