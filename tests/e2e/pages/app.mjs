// The app shell: navigation between views and the message area above them.
export class App {
  constructor(page) {
    this.page = page;
    this.notice = page.locator('#notice');
  }

  async open(baseUrl) {
    // The site's front page forwards to the dashboard.
    await this.page.goto(`${baseUrl}/`);
    await this.page.locator('#tab-data').waitFor();
  }

  async show(view) {
    await this.page.locator(`#tab-${view}`).click();
    await this.page.locator(`#${view}-title`).waitFor();
    if (view === 'service') {
      // The view asks the API on opening: wait for its answer, whatever it is.
      await this.page.locator('#service-status', { hasNotText: 'checking' }).waitFor();
    }
  }

  async errorText() {
    await this.page.locator('#notice.error').waitFor();
    return this.notice.innerText();
  }
}
