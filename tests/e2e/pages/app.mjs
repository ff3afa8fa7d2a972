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

  /** Controls of the shown view that a keyboard or screen-reader user could not use: no
   * accessible name (label, aria-label or text) or taken out of the tab order. */
  async unusableControls() {
    return this.page.locator('main').evaluate((main) => [...main.querySelectorAll('input, select, button, a[href]')]
      .filter((el) => !(el.labels?.length || el.getAttribute('aria-label') || el.textContent.trim()) || el.tabIndex < 0)
      .map((el) => el.outerHTML.slice(0, 120)));
  }

  /** Clicks the shown view's Cancel and waits until the page is idle again (the worker said
   * it stopped, or a new one has loaded the data). */
  async cancel() {
    await this.page.locator('#cancel').click();
    await this.page.locator('#busy', { hasText: /^$/ }).waitFor({ timeout: 60_000 });
  }

  /** A message that is not an error (what Cancel did). */
  async infoText() {
    await this.page.locator('#notice.info').waitFor();
    return this.notice.innerText();
  }

  async errorText() {
    await this.page.locator('#notice.error').waitFor();
    return this.notice.innerText();
  }
}
