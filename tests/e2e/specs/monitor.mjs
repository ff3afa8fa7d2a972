// An operator watching the edge: two models published, an A/B experiment between them, traffic
// and labels sent to the local worker; the Service view's edge monitoring shows the registry with
// the arms and exactly what `GET /v1/monitoring` reports (traffic per version and arm, score
// histograms, per-column drift, labelled performance, the alert level).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { App } from '../pages/app.mjs';
import { MonitorPage } from '../pages/service.mjs';

export const name = 'monitor: edge registry, experiment and monitoring';

/** The churn file's rows as JSON records (the file quotes text and leaves numbers bare). */
function records(csv, n) {
  const [head, ...lines] = readFileSync(csv, 'utf8').trim().split('\n');
  const names = head.split(',').map((h) => h.replaceAll('"', ''));
  return lines.slice(0, n).map((line, i) => {
    const record = { customer_id: `MON${i}` };
    line.split(',').forEach((cell, j) => {
      record[names[j]] = cell.startsWith('"') ? cell.replaceAll('"', '') : Number(cell);
    });
    return record;
  });
}

export async function run({ page, baseUrl, churnCsv, cliTrain, screenshots, tokens, allowConsoleError }) {
  const api = async (method, path, token, body) => {
    const answer = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await answer.text();
    assert.ok(answer.ok, `${method} ${path}: ${answer.status} ${text}`);
    return JSON.parse(text);
  };
  // Two versions: the control serves, the treatment is tried on 30% of customers.
  const versions = [];
  for (const families of [['gbdt'], ['logistic']]) {
    const model = cliTrain({ families, folds: 3, seed: 42 });
    const json = readFileSync(model.modelPath, 'utf8');
    const id = JSON.parse(json).model_id;
    await api('PUT', `/v1/models/${id}${versions.length ? '' : '?activate=true'}`, tokens.admin, json);
    versions.push(id);
  }
  const [control, treatment] = versions;
  await api('POST', `/v1/models/${control}/activate`, tokens.admin);
  await api('PUT', '/v1/experiment', tokens.admin, { control, treatment, treatment_share: 0.3 });
  try {
    const customers = records(churnCsv, 400);
    for (let i = 0; i < customers.length; i += 200) {
      await api('POST', '/v1/predict/batch', tokens.api, { customers: customers.slice(i, i + 200) });
    }
    await api('POST', '/v1/labels', tokens.admin, {
      labels: customers.map((c) => ({ customer_id: c.customer_id, churned: c.churn === 'yes' })),
    });

    const app = new App(page);
    const monitor = new MonitorPage(page);
    await app.open(baseUrl);
    await app.show('service');
    assert.deepEqual(await app.unusableControls(), []);

    // A wrong token gets the API's refusal, in words.
    allowConsoleError(/status of 401 .*\/v1\/models/, 'the wrong API token');
    await monitor.connect('not-the-token');
    assert.match(await monitor.error(), /the API token was refused/);

    await monitor.connect(tokens.api);
    const expected = await api('GET', '/v1/monitoring?hours=24', tokens.api);
    const registry = await api('GET', '/v1/models', tokens.api);

    const shownVersions = await monitor.versions();
    assert.deepEqual(Object.keys(shownVersions).sort(), registry.models.map((m) => m.version).sort());
    assert.equal(shownVersions[control], 'control arm');
    assert.equal(shownVersions[treatment], 'treatment arm');
    assert.match(await monitor.experiment(), new RegExp(`control ${control} gets 70\\.0% .* treatment ${treatment} gets 30\\.0%`));

    const traffic = await monitor.traffic();
    assert.deepEqual(traffic, expected.traffic.map((t) => ({
      version: t.model_version, arm: t.arm ?? null, predictions: t.predictions, histogram: t.score_histogram,
    })));
    const arms = traffic.filter((t) => t.version === control || t.version === treatment).map((t) => t.arm);
    assert.deepEqual([...new Set(arms)].sort(), ['control', 'treatment'], 'both arms served');
    assert.equal(await monitor.status.getAttribute('data-status'), expected.status);
    assert.equal(await monitor.status.getAttribute('data-alert'), String(expected.alert));

    assert.ok(expected.drift, `the API reports drift (notes: ${expected.notes})`);
    const drift = await monitor.driftColumns();
    assert.deepEqual(drift, Object.fromEntries(expected.drift.columns.map((c) => [c.name, { verdict: c.verdict, psi: c.psi ?? null }])));
    assert.ok(expected.performance, `the API reports performance (notes: ${expected.notes})`);
    assert.deepEqual(await monitor.performance(), {
      'ROC-AUC': expected.performance.roc_auc.current,
      recall: expected.performance.recall.current,
    });
    await screenshots(app, ['service'], 'monitor');
  } finally {
    // Later specs expect the one active model to serve everyone.
    await api('DELETE', '/v1/experiment', tokens.admin);
  }
}
