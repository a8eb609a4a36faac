// What bench/load-folder.ts bundles and runs in a plain `node` child process: cold loads of a
// folder on request, through the data module as the engine ships it. Not under tsx: worker threads
// inherit the parent's flags, so tsx's loader would start in every decode and reader thread too
// (~100 ms each, measured), which the engine's threads never pay.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flushImageCache, loadFolder, releaseImageCache } from '../src/engine/data';
import { stopDecodeThreads } from '../src/engine/data/decodePool';

export interface ColdRequest {
  folder: string;
  /** null: the default (threads where cores sit idle); a number sets LATENT_ATLAS_DECODE_THREADS. */
  threads: number | null;
}

export type ColdReply = { seconds: number; cpuSeconds: number; count: number; decoded: number } | { error: string };

async function cold({ folder, threads }: ColdRequest): Promise<ColdReply> {
  if (threads === null) delete process.env.LATENT_ATLAS_DECODE_THREADS;
  else process.env.LATENT_ATLAS_DECODE_THREADS = String(threads);
  await stopDecodeThreads(); // as in a fresh engine process: threads start within the timing
  const cacheDir = mkdtempSync(join(tmpdir(), 'latent-atlas-bench-load-'));
  try {
    const start = performance.now();
    const cpu = process.cpuUsage();
    const loaded = await loadFolder(folder, { cacheDir });
    await flushImageCache();
    const used = process.cpuUsage(cpu);
    const seconds = (performance.now() - start) / 1000;
    await releaseImageCache();
    return { seconds, cpuSeconds: (used.user + used.system) / 1e6, count: loaded.count, decoded: loaded.decoded };
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

process.on('message', (req: ColdRequest | 'stop') => {
  if (req === 'stop') {
    void stopDecodeThreads().then(() => process.disconnect());
    return;
  }
  cold(req).then(
    (reply) => process.send?.(reply),
    (err: unknown) => process.send?.({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
});
