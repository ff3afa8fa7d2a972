// The Train view: settings, Train, the leaderboard.
export class TrainPage {
  constructor(page) {
    this.page = page;
    this.leaderboard = page.locator('#leaderboard');
    this.trainButton = page.locator('#train');
    this.progress = page.locator('#progress');
  }

  /** Cancels the running work and waits until the page is idle again. */
  async cancel() {
    await this.page.locator('#cancel').click();
    await this.page.locator('#busy', { hasText: /^$/ }).waitFor();
  }

  async choose({ families, folds, seed }) {
    for (const family of ['gbdt', 'forest', 'logistic']) {
      await this.page.locator(`#family-${family}`).setChecked(families.includes(family));
    }
    await this.page.locator('#folds').fill(String(folds));
    await this.page.locator('#seed').fill(String(seed));
  }

  async train() {
    await this.trainButton.click();
    await this.leaderboard.waitFor({ timeout: 300_000 });
  }

  /** Rows of the leaderboard that fills while training runs (one per family cross-validated). */
  liveRows() {
    return this.page.locator('#live-leaderboard tbody tr');
  }

  /** The full-precision cross-validated ROC-AUC of `family` on the leaderboard. */
  async rocAuc(family) {
    const row = this.leaderboard.locator('tbody tr', { hasText: family });
    return Number(await row.locator('.roc-auc').getAttribute('data-value'));
  }
}
