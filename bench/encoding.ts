// Image decoding + preprocessing throughput of the data module on a 10k-PNG Fashion-MNIST folder:
// cold (nothing cached: scan, choose preprocessing, decode with sharp, write the uint8 cache) and
// warm (everything from the cache), plus the demo set's generation time.
import { cpus, loadavg, tmpdir } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { demoImages, loadFolder, prepareFashionMnistFolder, releaseImageCache } from '../src/engine/data';
import { decodeConcurrency } from '../src/engine/data/load';

export { prepareFashionMnistFolder };

const IMAGES = Number(process.env.BENCH_ENCODING_IMAGES ?? 10_000);
/** Re-used between runs (bench/.cache is git-ignored). */
const FOLDER = join(__dirname, '.cache', `fashion-mnist-test-${IMAGES}`);

/** Wall time, and CPU time of this process (sharp's threads included): on a shared machine the
 *  CPU time per image is the steadier figure. */
async function timed<T>(fn: () => Promise<T> | T): Promise<{ value: T; seconds: number; cpuSeconds: number }> {
  const start = performance.now();
  const cpu = process.cpuUsage();
  const value = await fn();
  const used = process.cpuUsage(cpu);
  return { value, seconds: (performance.now() - start) / 1000, cpuSeconds: (used.user + used.system) / 1e6 };
}

const rate = (n: number, s: number) => Math.round(n / s).toLocaleString('en-US');

const row = (what: string, images: string, t: { seconds: number; cpuSeconds: number }, n: number) =>
  `| ${what} | ${images} | ${t.seconds.toFixed(2)} | ${rate(n, t.seconds)} | ${((t.cpuSeconds / n) * 1000).toFixed(3)} |`;

export async function run(): Promise<string> {
  const loadAverage = loadavg()[0];
  const prepared = await timed(() => prepareFashionMnistFolder(FOLDER, IMAGES));
  const cacheDir = mkdtempSync(join(tmpdir(), 'latent-atlas-bench-cache-'));
  try {
    const pre = { width: 28, height: 28, channels: 1 as const, fit: 'cover' as const };
    const decodeOnly = await timed(() => loadFolder(FOLDER, { pre, cacheDir: false }));
    const cold = await timed(() => loadFolder(FOLDER, { cacheDir }));
    await releaseImageCache(); // as a new worker process finds it: the pack on disk only
    const warm = await timed(() => loadFolder(FOLDER, { cacheDir }));
    const again = await timed(() => loadFolder(FOLDER, { cacheDir }));
    const demo = await timed(() => demoImages(10_000));
    const n = cold.value.count;
    if (warm.value.decoded !== 0) throw new Error(`warm load decoded ${warm.value.decoded} files; the cache did not hit`);

    const cpu = cpus()[0]?.model ?? 'unknown CPU';
    return [
      '## Image loading (decode + preprocess)',
      '',
      `Fashion-MNIST test set written as ${n.toLocaleString('en-US')} PNG files (28×28 grey, one sub-folder per class), loaded with \`loadFolder\`.`,
      `Machine: ${cpu}, ${cpus().length} cores, load average ${loadAverage.toFixed(1)} when it started; Node ${process.version}; sharp ${sharp.versions.sharp} / libvips ${sharp.versions.vips}; PNGs decoded on the main thread (threads only for long loads), files for sharp ${decodeConcurrency()} at a time.`,
      '',
      '| load | images | seconds | images/s | CPU ms per image |',
      '|---|---:|---:|---:|---:|',
      row('cold, preprocessing given, no cache (pure decode)', `${decodeOnly.value.count}`, decodeOnly, decodeOnly.value.count),
      row('cold: scan, choose preprocessing, decode, write cache', `${n} (decoded ${cold.value.decoded})`, cold, n),
      row('warm: scan, all from the uint8 cache file', `${warm.value.count} (decoded ${warm.value.decoded})`, warm, warm.value.count),
      row(
        'warm again in the same process (pack held in memory)',
        `${again.value.count} (decoded ${again.value.decoded})`,
        again,
        again.value.count,
      ),
      '',
      `Preparing the folder: ${prepared.seconds < 1 ? 're-used from bench/.cache' : `${prepared.seconds.toFixed(1)} s (PNG encoding, ${rate(IMAGES, prepared.seconds)} images/s)`}. ` +
        `Demo set: 10,000 anti-aliased 28×28 shapes generated in ${(demo.seconds * 1000).toFixed(0)} ms.`,
      '',
    ].join('\n');
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  run().then(
    (md) => process.stdout.write(`${md}\n`),
    (err) => {
      process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
