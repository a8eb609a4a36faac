// A million-image folder end to end (issue 13, item 4): the wall time of each stage of "VAE: Encode
// Image Folder" through the real engine worker, then the host's and the explorer's part. The
// folder is synthetic: Fashion-MNIST's 70,000 images, each written 14 or 15 times with a different
// pixel changed, as 1,000,000 28×28 grey PNG files in ten class folders (built once, kept in
// bench/.cache; about 4 GB of disk for the files' blocks).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineClient } from '../src/client/engineClient';
import { FASHION_MNIST_CLASSES, prepareFashionMnistFolder, readFashionMnist } from '../src/engine/data';
import type { Encoding } from '../src/protocol/engine';
import { DEFAULT_MODEL, DEFAULT_TRAINING } from '../src/protocol/model';
import { packNames } from '../src/protocol/pointNames';
import { makePng } from '../test/fixtures/images';

const COUNT = Number(process.env.BENCH_MILLION_IMAGES ?? 1_000_000);
const FOLDER = join(__dirname, '.cache', `million-${COUNT}`);
const TRAIN_FOLDER = join(__dirname, '.cache', 'fashion-mnist-test-10000');
const WORKER = join(__dirname, '..', 'dist', 'worker.js');

async function prepareFolder(): Promise<void> {
  const marker = join(FOLDER, '.complete.json');
  if (existsSync(marker) && (JSON.parse(readFileSync(marker, 'utf8')) as { count: number }).count === COUNT) return;
  const [train, test] = [await readFashionMnist('train'), await readFashionMnist('test')];
  const px = 28 * 28;
  for (const cls of FASHION_MNIST_CLASSES) mkdirSync(join(FOLDER, cls), { recursive: true });
  const image = new Uint8Array(px);
  for (let i = 0; i < COUNT; i++) {
    const source = i % 70_000;
    const set = source < 60_000 ? train : test;
    const at = source < 60_000 ? source : source - 60_000;
    image.set(set.images.subarray(at * px, (at + 1) * px));
    // Copies of the same image differ in one pixel, so every file is its own image.
    const copy = Math.floor(i / 70_000);
    if (copy > 0) image[(copy * 53) % px] = (image[(copy * 53) % px]! + 17 * copy) & 255;
    const name = `${String(i).padStart(7, '0')}.png`;
    writeFileSync(join(FOLDER, FASHION_MNIST_CLASSES[set.labels[at]!]!, name), makePng(28, 28, 0, image));
  }
  writeFileSync(marker, JSON.stringify({ count: COUNT }));
}

const seconds = (ms: number) => (ms / 1000).toFixed(1);

export async function run(): Promise<string> {
  if (!existsSync(WORKER)) throw new Error(`${WORKER} is missing: run \`npm run build\` first.`);
  let t = performance.now();
  await prepareFolder();
  const prepared = performance.now() - t;
  await prepareFashionMnistFolder(TRAIN_FOLDER, 10_000);
  const out = mkdtempSync(join(tmpdir(), 'latent-atlas-bench-million-'));
  const client = new EngineClient({ workerPath: WORKER, worker: { backend: 'wasm' }, maxOldSpaceMb: 8192 });
  const load = loadavg()[0]!;
  try {
    const runDir = join(out, 'classic');
    await client.request<'train'>({
      type: 'train',
      runDir,
      name: 'bench-million',
      dataset: { kind: 'folder', path: TRAIN_FOLDER },
      model: { ...DEFAULT_MODEL, latentSize: 20 },
      training: { ...DEFAULT_TRAINING, epochs: 1 },
    });
    const marks: Record<string, number> = {};
    t = performance.now();
    const { result } = client.begin<'encodeFolder'>({ type: 'encodeFolder', runDir, folder: FOLDER, incremental: false }, (e) => {
      const now = performance.now() - t;
      if (e.type === 'status' && e.message.startsWith('Encoding') && marks.scanned === undefined) marks.scanned = now;
      if (e.type === 'encodedPoints') marks.points = now;
    });
    const enc: Encoding = await result;
    marks.terms = performance.now() - t;
    const names = enc.files.map((f) =>
      f
        .slice(FOLDER.length + 1)
        .split('\\')
        .join('/'),
    );
    t = performance.now();
    const packed = packNames(names);
    const packMs = performance.now() - t;
    const rss = process.memoryUsage().rss;
    return [
      '## A million images end to end',
      '',
      `"VAE: Encode Image Folder" on a folder of ${COUNT.toLocaleString('en-US')} 28×28 grey PNG files (Fashion-MNIST's 70,000 images`,
      'written 14–15 times each, one pixel changed per copy, ten class folders), with the classic model (784-400-20), through',
      'the real engine worker on wasm; times as the owner sees the events. Then the host packs the file names for the explorer.',
      `Machine: ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${cpus().length} cores, load average ${load.toFixed(1)} at the start.`,
      `(Writing the folder took ${seconds(prepared)} s${prepared < 1000 ? ', re-used from bench/.cache' : ''}.)`,
      '',
      '| stage | seconds (from the request) | stage seconds |',
      '|---|---:|---:|',
      `| scan (${COUNT.toLocaleString('en-US')} files in 10 folders) | ${seconds(marks.scanned!)} | ${seconds(marks.scanned!)} |`,
      `| decode, encoder pass, encoding written, points sent (the map can draw) | ${seconds(marks.points!)} | ${seconds(marks.points! - marks.scanned!)} |`,
      `| each image's ELBO terms (decoder pass), encoding written again, reply | ${seconds(marks.terms)} | ${seconds(marks.terms - marks.points!)} |`,
      `| host: file names packed for the webview (${(packed.bytes.byteLength / 2 ** 20).toFixed(0)} MiB) | | ${seconds(packMs)} |`,
      '',
      `${enc.files.length.toLocaleString('en-US')} points, ${enc.skipped.length} skipped; the bench process held ${(rss / 2 ** 30).toFixed(1)} GiB`,
      "after the reply. The explorer's own part at 1,000,000 points (posting the points message to the first drawn frame) is",
      'the 1,000,000 row of the Latent Explorer section.',
    ].join('\n');
  } finally {
    await client.dispose();
    rmSync(out, { recursive: true, force: true });
  }
}
