// A decode thread (worker_threads, started by decodePool.ts): reads files and decodes the PNGs the
// fast path takes; every other file's bytes go back to the engine's main thread for sharp. As the
// pool's reader thread it only reads (ReadJob): the main thread decodes what it read. Built as its
// own bundle, dist/decodeThread.js, so sharp's native module is never loaded in a thread.
import { parentPort } from 'node:worker_threads';
import { decodeFileFast, readFiles, type ReadJob, type ReadReply, type ThreadJob, type ThreadReply } from './decodeFast';

parentPort?.on('message', (job: ThreadJob | ReadJob) => {
  if ('read' in job) {
    const { results, bytes } = readFiles(job.read, job.syncLimit);
    const reply: ReadReply = { id: job.id, results, bytes };
    parentPort?.postMessage(reply, [bytes.buffer as ArrayBuffer]);
    return;
  }
  const pixelBytes = job.pre.width * job.pre.height * job.pre.channels;
  // One buffer for the batch's pixels: one transfer instead of one per image.
  const pixels = new Uint8Array(job.paths.length * pixelBytes);
  const transfer: ArrayBuffer[] = [pixels.buffer];
  const outcomes = job.paths.map((path, k) => {
    const slot = pixels.subarray(k * pixelBytes, (k + 1) * pixelBytes);
    const out = decodeFileFast(path, job.pre, undefined, slot);
    if ('pixels' in out) {
      if (out.pixels !== slot) slot.set(out.pixels);
      return { ok: true as const, size: out.size, mtimeMs: out.mtimeMs };
    }
    if ('bytes' in out) transfer.push(out.bytes.buffer as ArrayBuffer);
    return out;
  });
  const reply: ThreadReply = { id: job.id, outcomes, pixels };
  parentPort?.postMessage(reply, transfer);
});
