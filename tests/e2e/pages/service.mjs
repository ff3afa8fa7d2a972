// The Service view: the edge API's status from the same origin.
export class ServicePage {
  constructor(page) {
    this.page = page;
    this.table = page.locator('#service-info');
  }

  async status() {
    await this.table.waitFor();
    return this.page.locator('#service-status').innerText();
  }
}
