// The Service view: the edge API's status from the same origin, and the metrics token it asks
// for when the API withholds the model's details.
export class ServicePage {
  constructor(page) {
    this.page = page;
    this.table = page.locator('#service-info');
  }

  async status() {
    await this.table.waitFor();
    return this.page.locator('#service-status').innerText();
  }

  /** Whether the view asks for the metrics token. */
  async asksForToken() {
    return this.page.locator('#metrics-token').isVisible();
  }

  /** Enters the metrics token (the readers below wait for the API's answer). */
  async enterToken(token) {
    await this.page.locator('#metrics-token').fill(token);
    await this.page.locator('#metrics-token-send').click();
  }

  async tokenError() {
    return this.page.locator('#service-token-error').innerText();
  }

  /** The value of the row labelled `label`. */
  async row(label) {
    return this.table.locator('tr', { hasText: label }).locator('td').innerText();
  }
}

// The Service view's edge monitoring: an edge API's registry and the monitoring of its traffic.
export class MonitorPage {
  constructor(page) {
    this.page = page;
    this.status = page.locator('#monitor-status');
  }

  /** Connects with `token` (to this origin unless `url` is given) and waits for the answer. */
  async connect(token, { url = null, hours = '24' } = {}) {
    if (url) await this.page.locator('#monitor-url').fill(url);
    await this.page.locator('#monitor-token').fill(token);
    await this.page.locator('#monitor-hours').selectOption(hours);
    await this.page.locator('#monitor-connect').click();
    await this.page.locator('#monitor-status, #monitor-error').first().waitFor();
  }

  async error() {
    return this.page.locator('#monitor-error').innerText();
  }

  /** Registered versions: `{ version: servingText }`. */
  async versions() {
    const rows = this.page.locator('#monitor-versions tbody tr');
    const out = {};
    for (const row of await rows.all()) {
      out[await row.getAttribute('data-version')] = (await row.locator('td').first().innerText()).trim();
    }
    return out;
  }

  async experiment() {
    return this.page.locator('#monitor-experiment').innerText();
  }

  /** Traffic rows: `{ version, arm, predictions, histogram }`. */
  async traffic() {
    const rows = this.page.locator('#monitor-traffic tbody tr');
    return Promise.all((await rows.all()).map(async (row) => ({
      version: await row.getAttribute('data-version'),
      arm: (await row.getAttribute('data-arm')) || null,
      predictions: Number(await row.getAttribute('data-predictions')),
      histogram: (await row.getAttribute('data-histogram')).split(',').map(Number),
    })));
  }

  /** Per-column drift rows: `{ column: { verdict, psi } }`. */
  async driftColumns() {
    const rows = this.page.locator('#monitor-drift-columns tbody tr');
    const out = {};
    for (const row of await rows.all()) {
      const psi = await row.getAttribute('data-psi');
      out[await row.getAttribute('data-column')] = {
        verdict: await row.getAttribute('data-verdict'),
        psi: psi === null ? null : Number(psi),
      };
    }
    return out;
  }

  /** Labelled performance: `{ metric: current }` (full precision). */
  async performance() {
    const rows = this.page.locator('#monitor-performance tbody tr');
    const out = {};
    for (const row of await rows.all()) {
      out[await row.getAttribute('data-metric')] = Number(await row.getAttribute('data-current'));
    }
    return out;
  }
}
