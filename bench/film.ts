// What the map's film costs a training: one frame (encode the 2,000-image subset, μ only, and
// store it) against one epoch, on Fashion-MNIST (28×28×1) with the default MLP and conv models.
// A section of `npm run bench` (on wasm); `node --import tsx bench/film.ts [backend]` prints it alone.

import { promises as fs } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../src/engine/backends/ladder';
import { chooseFilmSubset, FILM_MAX_IMAGES } from '../src/engine/handlers/film';
import { runSplit, subset } from '../src/engine/model/batches';
import { buildVae, encodeImages } from '../src/engine/model/model';
import { trainVae } from '../src/engine/model/trainer';
import { startFilm, writeFrame } from '../src/engine/runStore/film';
import { DEFAULT_MODEL, DEFAULT_TRAINING, type BackendName, type ModelConfig, type Preprocessing } from '../src/protocol/model';
import { readIdx } from './training';

const TRAIN_IMAGES = Number(process.env.FILM_BENCH_IMAGES ?? 10_000);
const PRE: Preprocessing = { width: 28, height: 28, channels: 1, fit: 'fill' };
const MODELS: [string, ModelConfig][] = [
  ['MLP 784-400-2', DEFAULT_MODEL],
  ['conv 32-64, latent 2', { ...DEFAULT_MODEL, architecture: 'conv' }],
];

async function measure(backend: BackendName): Promise<string> {
  await initBackend({ backend });
  const all = readIdx('train');
  const data = { images: all.images.subarray(0, TRAIN_IMAGES * 784), labels: all.labels.subarray(0, TRAIN_IMAGES), count: TRAIN_IMAGES };
  const cfg = { ...DEFAULT_TRAINING, epochs: 1 };
  const picked = chooseFilmSubset(runSplit(data.count, cfg).train, data.labels, FILM_MAX_IMAGES, cfg.seed);
  const film = subset(data, picked, PRE);
  const dir = await fs.mkdtemp(join(os.tmpdir(), 'la-film-bench-'));
  const rows: string[] = [];
  try {
    for (const [name, model] of MODELS) {
      const vae = buildVae(model, PRE, 10, cfg.seed);
      let index = await startFilm(dir, { files: Array.from(picked, String), labels: Array.from(film.labels), labelNames: [], dims: 2 });
      const frame = async (epoch: number) => {
        const t = performance.now();
        const { mu } = await encodeImages(vae, film.images, film.count);
        const encoded = performance.now();
        index = await writeFrame(dir, index, epoch, mu);
        return { encode: (encoded - t) / 1000, write: (performance.now() - encoded) / 1000 };
      };
      await frame(0); // warm-up (kernels, shapes)
      const before = [await frame(0), await frame(0), await frame(0)];
      const t = performance.now();
      await trainVae(
        vae,
        { ...data, numLabels: 10, pre: PRE },
        cfg,
        { onProgress: () => undefined, onEpoch: async () => undefined, shouldStop: () => false },
        undefined,
        {
          backend,
        },
      );
      const epoch = (performance.now() - t) / 1000;
      const after = [await frame(1), await frame(1), await frame(1)];
      const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      const enc = median([...before, ...after].map((f) => f.encode));
      const write = median([...before, ...after].map((f) => f.write));
      const fullEpoch = (epoch * 60_000) / TRAIN_IMAGES;
      rows.push(
        `| ${name} | ${(enc * 1000).toFixed(0)} ms | ${(write * 1000).toFixed(1)} ms | ${epoch.toFixed(1)} s | ${((100 * (enc + write)) / epoch).toFixed(1)} % | ${((100 * (enc + write)) / fullEpoch).toFixed(2)} % |`,
      );
      vae.encoder.dispose();
      vae.decoder.dispose();
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
  return [
    "## The map's film: a frame against an epoch",
    '',
    `Film frame vs epoch on ${backend}, Fashion-MNIST 28×28, ${FILM_MAX_IMAGES} film images, epoch of ${TRAIN_IMAGES.toLocaleString('en-US')} images (batch ${cfg.batchSize}, 10 % held out); load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores.`,
    '',
    `| model | encode 2,000 | write frame | epoch (${TRAIN_IMAGES / 1000}k) | frame / epoch | frame / 60k epoch (scaled) |`,
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

export function run(): Promise<string> {
  return measure('wasm');
}

if (require.main === module) void measure((process.argv[2] ?? 'wasm') as BackendName).then((md) => console.log(md));
