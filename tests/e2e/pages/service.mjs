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
