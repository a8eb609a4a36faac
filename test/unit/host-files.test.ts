import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { projectorTables, writeProjectorFiles } from '../../src/host/projectorExport';
import type { Encoding } from '../../src/protocol/engine';

let tmp = '';
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'host-files-'));
});
after(() => rm(tmp, { recursive: true, force: true }));

test('the projector export has one vector row and one metadata row per point', async () => {
  const folder = join(tmp, 'images');
  const encoding: Encoding = {
    runDir: join(tmp, '.vae', 'r'),
    folder,
    files: [join(folder, 'cat', 'a.png'), join(folder, 'b\tc.png'), join(folder, 'dog', 'd.png')],
    labels: Int32Array.from([0, -1, 1]),
    labelNames: ['cat', 'dog'],
    dims: 2,
    mu: Float32Array.from([0.5, -1, 2, 0.25, -3, 4]),
    terms: null,
    meanSigma: Float32Array.from([0.5, 0.5, 0.5]),
    skipped: [],
    encoded: 3,
    reused: 0,
  };
  const t = projectorTables(encoding);
  assert.equal(t.vectors, '0.5\t-1\n2\t0.25\n-3\t4\n');
  assert.equal(t.metadata, `file\tlabel\n${join('cat', 'a.png')}\tcat\nb c.png\t\n${join('dog', 'd.png')}\tdog\n`);
  const [v, m] = await writeProjectorFiles(encoding, join(tmp, 'projector'));
  assert.equal(await readFile(v, 'utf8'), t.vectors);
  assert.equal(await readFile(m, 'utf8'), t.metadata);
});
