// A decode thread (worker_threads, started by decodePool.ts): reads files and decodes the PNGs the
// fast path takes; every other file's bytes go back to the engine's main thread for sharp. Built
// as its own bundle, dist/decodeThread.js, so sharp's native module is never loaded in a thread.
import { parentPort } from 'node:worker_threads';
import { decodeFileFast, type ThreadJob, type ThreadReply } from './decodeFast';

parentPort?.on('message', (job: ThreadJob) => {
  const pixelBytes = job.pre.width * job.pre.height * job.pre.channels;
  // One buffer for the batch's pixels: one transfer instead of one per image.
  const pixels = new Uint8Array(job.paths.length * pixelBytes);
  const transfer: ArrayBuffer[] = [pixels.buffer];
  const outcomes = job.paths.map((path, k) => {
    const out = decodeFileFast(path, job.pre);
    if ('pixels' in out) {
      pixels.set(out.pixels, k * pixelBytes);
      return { ok: true as const, size: out.size, mtimeMs: out.mtimeMs };
    }
    if ('bytes' in out) transfer.push(out.bytes.buffer as ArrayBuffer);
    return out;
  });
  const reply: ThreadReply = { id: job.id, outcomes, pixels };
  parentPort?.postMessage(reply, transfer);
});
