// Encoding throughput of the whole "VAE: Encode Image Folder" path through the real engine worker:
// scan, decode with sharp (or the uint8 cache), the encoder's forward pass and the atomic write of
// the encoding, on the Fashion-MNIST test set as a 10k PNG folder, for each backend available here.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareFashionMnistFolder } from '../src/engine/data';
import { EngineClient } from '../src/client/engineClient';
import { DEFAULT_MODEL, DEFAULT_TRAINING, type BackendName } from '../src/protocol/model';

const IMAGES = Number(process.env.BENCH_ENCODING_IMAGES ?? 10_000);
const FOLDER = join(__dirname, '.cache', `fashion-mnist-test-${IMAGES}`);
const WORKER = join(__dirname, '..', 'dist', 'worker.js');

/** Trains the classic 784-400-20 model for one epoch (throughput does not depend on the weights). */
async function trainRun(out: string): Promise<string> {
  const client = new EngineClient({ workerPath: WORKER, worker: { backend: 'wasm' } });
  try {
    const runDir = join(out, 'classic');
    await client.request<'train'>({
      type: 'train',
      runDir,
      name: 'bench-classic',
      dataset: { kind: 'folder', path: FOLDER },
      model: { ...DEFAULT_MODEL, latentSize: 20 },
      training: { ...DEFAULT_TRAINING, epochs: 1 },
    });
    return runDir;
  } finally {
    await client.dispose();
  }
}

async function measure(backend: BackendName, runDir: string): Promise<string> {
  const client = new EngineClient({ workerPath: WORKER, worker: { backend } });
  try {
    await client.start();
    const rows: string[] = [];
    for (const [what, incremental] of [
      ['first encode (images from the uint8 cache the training wrote)', false],
      ['re-run, nothing changed (incremental)', true],
    ] as const) {
      const start = performance.now();
      const enc = await client.request<'encodeFolder'>({ type: 'encodeFolder', runDir, folder: FOLDER, incremental });
      const seconds = (performance.now() - start) / 1000;
      const n = enc.encoded + enc.reused;
      rows.push(
        `| ${backend} | ${what} | ${n.toLocaleString('en-US')} (${enc.encoded} encoded) | ${seconds.toFixed(2)} | ${Math.round(n / seconds).toLocaleString('en-US')} |`,
      );
    }
    return rows.join('\n');
  } finally {
    await client.dispose();
  }
}

export async function run(): Promise<string> {
  if (!existsSync(WORKER)) throw new Error(`${WORKER} is missing: run \`npm run build\` first.`);
  await prepareFashionMnistFolder(FOLDER, IMAGES);
  const out = mkdtempSync(join(tmpdir(), 'latent-atlas-bench-encode-'));
  try {
    const runDir = await trainRun(out);
    const rows: string[] = [];
    for (const backend of ['wasm', 'cpu'] as const) rows.push(await measure(backend, runDir));
    return [
      '## Encoding a folder through the engine worker',
      '',
      `\`encodeFolder\` on the Fashion-MNIST test set as ${IMAGES.toLocaleString('en-US')} PNG files with the classic`,
      'model (784-400-20), through a real forked worker: scan, load, encoder forward pass, atomic write of',
      'the encoding. Times include IPC of the posterior means and log-variances back to the owner.',
      '',
      '| backend | run | images | seconds | images/s |',
      '|---|---|---:|---:|---:|',
      ...rows,
    ].join('\n');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
