// The Train view: settings, Train, the leaderboard.
import { App } from './app.mjs';

export class TrainPage {
  constructor(page) {
    this.page = page;
    this.leaderboard = page.locator('#leaderboard');
    this.trainButton = page.locator('#train');
    this.progress = page.locator('#progress');
  }

  /** Cancels the running work and waits until the page is idle again. */
  async cancel() {
    await new App(this.page).cancel();
  }

  /** The settings; `imbalance` is a weighting's value (`none`, `balanced`, `positive_weight`),
   * `tune` a budget `{ trials, maxTrees }` (absent: no tuning). */
  async choose({ families, folds, seed, imbalance = 'none', tune = null }) {
    for (const family of ['gbdt', 'forest', 'logistic']) {
      await this.page.locator(`#family-${family}`).setChecked(families.includes(family));
    }
    await this.page.locator('#folds').fill(String(folds));
    await this.page.locator('#seed').fill(String(seed));
    await this.page.locator('#imbalance').selectOption(imbalance);
    await this.page.locator('#tune').setChecked(tune !== null);
    if (tune) {
      await this.page.locator('#tune-trials').fill(String(tune.trials));
      await this.page.locator('#tune-max-trees').fill(String(tune.maxTrees));
    }
  }

  /** How the loaded data will be validated, as the view says before training. */
  async validationPlan() {
    return this.page.locator('#validation-plan').innerText();
  }

  /** The tree sizes training will use for the loaded data (the size rule), as the view says. */
  async modelSize() {
    return this.page.locator('#model-size').innerText();
  }

  /** What tuning found (the sentence under the leaderboard). */
  async tuningSummary() {
    return this.page.locator('#tuning-summary').innerText();
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
