// One table of limits: the settings schema in package.json, the settings reader, the CLI and the
// engine all refuse the same values.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { LIMITS, limitProblem, type LimitName } from '../../src/protocol/limits';
import { readSettings } from '../../src/host/settings';

interface SchemaEntry {
  type: string;
  minimum?: number;
  maximum?: number;
  items?: { type: string; minimum?: number; maximum?: number };
}
const manifest = JSON.parse(readFileSync(path.join(__dirname, '../../package.json'), 'utf8')) as {
  contributes: { configuration: { properties: Record<string, SchemaEntry> } };
};
const schema = manifest.contributes.configuration.properties;

describe('the table of limits', () => {
  it('package.json states the same bounds for every numeric vae.* setting', () => {
    const numeric = Object.entries(schema).filter(([, e]) => e.type === 'number' || e.type === 'integer' || e.items?.type === 'integer');
    assert.ok(numeric.length >= 10, `found ${numeric.length} numeric settings`);
    for (const [key, entry] of numeric) {
      const name = key.replace(/^vae\./, '') as LimitName;
      const limit = LIMITS[name];
      assert.ok(limit, `${key} has an entry in src/protocol/limits.ts`);
      const bounds = entry.items ?? entry;
      assert.equal(bounds.minimum, limit.min, `${key} minimum`);
      assert.equal(bounds.maximum, limit.max, `${key} maximum`);
      assert.equal(bounds.type === 'integer', limit.int, `${key} integer or not`);
    }
  });

  it('the settings reader falls back from a value the table refuses, naming the setting', () => {
    const values: Record<string, unknown> = { latentSize: 257, epochs: 10001, workerMemoryMB: 100 };
    const s = readSettings((key) => values[key]);
    assert.equal(s.model.latentSize, 2);
    assert.equal(s.training.epochs, 10);
    assert.equal(s.worker.maxMemoryMB, 8192);
    assert.equal(s.problems.length, 3, s.problems.join('\n'));
    assert.match(s.problems.join('\n'), /vae\.latentSize = 257/);
  });

  it('says what is allowed, and accepts the bounds themselves', () => {
    assert.equal(limitProblem('epochs', 1), undefined);
    assert.equal(limitProblem('epochs', 10000), undefined);
    assert.equal(limitProblem('epochs', 10001), 'epochs must be a whole number from 1 to 10000, got 10001');
    assert.match(limitProblem('learningRate', 0)!, /from 0\.000001 to 1|from 1e-6 to 1/);
    assert.match(limitProblem('batchSize', 2.5, 'batch size')!, /^batch size must be a whole number/);
    assert.ok(limitProblem('sigma', Number.NaN));
  });
});
