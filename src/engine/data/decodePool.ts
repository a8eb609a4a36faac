// A small pool of decode threads (decodeThread.ts) so idle cores decode when a load is long (the
// loader, load.ts, decides when; a thread costs tens of milliseconds to start and more to warm
// up), and one reader thread that does the file system calls for the main thread's own decoding
// (little code to warm up: it helps short loads too). Idle threads do not keep the process alive,
// and the pool stops itself after a while without work. Any failure to start or a thread that dies
// fails only the batches it held; the loader then reads and decodes those files on the main thread.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { EventLoopUtilization } from 'node:perf_hooks';
import type { Preprocessing } from '../../protocol/model';
import type { ReadJob, ReadReply, ThreadJob, ThreadReply } from './decodeFast';

const IDLE_STOP_MS = 30_000;

/** The thread count LATENT_ATLAS_DECODE_THREADS sets (0 turns threads off), or undefined. */
export function decodeThreadsGiven(): number | undefined {
  const given = process.env.LATENT_ATLAS_DECODE_THREADS;
  if (given !== undefined && given !== '' && Number.isInteger(Number(given))) return Math.max(0, Math.min(16, Number(given)));
  return undefined;
}

/** At most this many threads: one per core, or as LATENT_ATLAS_DECODE_THREADS says. */
export function decodeThreadCount(): number {
  return decodeThreadsGiven() ?? Math.min(8, availableParallelism());
}

interface Thread {
  worker: Worker;
  pending: Map<number, { resolve(r: ThreadReply & ReadReply): void; reject(e: Error): void }>;
  /** True once the thread runs; false if it failed first. */
  online: Promise<boolean>;
  /** Files read for the main thread (the reader thread). */
  filesRead: number;
}

/** One decode thread, for a caller that feeds it batches once it runs. */
export interface DecodeThread {
  /** Resolves true once the thread can take work (at once for a running thread), false if it never will. */
  online: Promise<boolean>;
  decode(paths: string[], pre: Preprocessing): Promise<ThreadReply>;
}

/** The reader thread: reads files (up to `syncLimit` bytes each) for the main thread to decode. */
export interface ReaderThread {
  online: Promise<boolean>;
  read(paths: string[], syncLimit: number): Promise<ReadReply>;
  /** How busy the thread has been since it started (a difference of two tells it for a while). */
  utilization(): EventLoopUtilization;
  /** Files this thread has read and answered for since it started. */
  filesRead(): number;
}

function startWorker(): Worker {
  // Bundled (dist/): the thread's own bundle sits next to this code. From source (tests and
  // benchmarks under tsx), the thread registers tsx itself: worker threads do not inherit it.
  const bundled = join(__dirname, 'decodeThread.js');
  if (existsSync(bundled)) return new Worker(bundled);
  const source = join(__dirname, 'decodeThread.ts');
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(source)});`, { eval: true });
}

class DecodePool {
  private readonly threads: Thread[] = [];
  private readerThread: Thread | undefined;
  private nextId = 1;
  private turn = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  /** A thread failed before answering once (e.g. it cannot be started here): no more threads. */
  broken = false;

  constructor(readonly size: number) {}

  /**
   * Every thread, started now if it is not running (each takes tens of milliseconds to start, so
   * the caller works meanwhile and feeds a thread once it is online).
   */
  start(count = this.size): DecodeThread[] {
    if (this.broken) return [];
    clearTimeout(this.idleTimer);
    while (this.threads.length < Math.min(count, this.size)) this.spawn();
    this.scheduleStop();
    return this.running();
  }

  /** The threads started so far (by an earlier load: warm, and free to use at once). */
  running(): DecodeThread[] {
    return this.threads.map((thread) => ({ online: thread.online, decode: (paths, pre) => this.decodeOn(thread, paths, pre) }));
  }

  /**
   * The reader thread, started now if it is not running; none on a single core (it would only
   * take turns with the main thread) or when LATENT_ATLAS_DECODE_THREADS sets the threads.
   */
  reader(): ReaderThread | undefined {
    if (this.broken || availableParallelism() < 2 || decodeThreadsGiven() !== undefined) return undefined;
    clearTimeout(this.idleTimer);
    let thread = this.readerThread;
    if (!thread) {
      thread = this.readerThread = this.spawn(false);
    }
    this.scheduleStop();
    const reader = thread;
    return {
      online: reader.online,
      utilization: () => reader.worker.performance.eventLoopUtilization(),
      filesRead: () => reader.filesRead,
      read: async (paths, syncLimit) => {
        if (this.readerThread !== reader) throw new Error('the reader thread stopped');
        const reply = await this.post(reader, { id: this.nextId++, read: paths, syncLimit });
        reader.filesRead += reply.results.length;
        return reply;
      },
    };
  }

  /** Decodes one batch of files on the least busy thread. */
  decode(paths: string[], pre: Preprocessing): Promise<ThreadReply> {
    if (this.broken) return Promise.reject(new Error('decode threads cannot be started here'));
    return this.decodeOn(this.pick(), paths, pre);
  }

  private decodeOn(thread: Thread, paths: string[], pre: Preprocessing): Promise<ThreadReply> {
    if (!this.threads.includes(thread)) return Promise.reject(new Error('the decode thread stopped'));
    return this.post(thread, { id: this.nextId++, paths, pre });
  }

  private post(thread: Thread, job: ThreadJob | ReadJob): Promise<ThreadReply & ReadReply> {
    clearTimeout(this.idleTimer);
    return new Promise((resolve, reject) => {
      thread.pending.set(job.id, { resolve, reject });
      thread.worker.ref();
      thread.worker.postMessage(job);
    });
  }

  private pick(): Thread {
    if (this.threads.length < this.size) return this.spawn();
    let best = this.threads[this.turn++ % this.threads.length];
    for (const t of this.threads) if (t.pending.size < best.pending.size) best = t;
    return best;
  }

  /** A thread; a decode thread (`decodes`) joins the pool's list, the reader does not. */
  private spawn(decodes = true): Thread {
    const worker = startWorker();
    const thread: Thread = {
      worker,
      pending: new Map(),
      filesRead: 0,
      online: new Promise<boolean>((resolve) => {
        worker.once('online', () => {
          // A starting thread keeps the process alive (someone may be waiting for it); an idle one does not.
          if (thread.pending.size === 0) worker.unref();
          resolve(true);
        });
        worker.once('error', () => resolve(false));
        worker.once('exit', () => resolve(false));
      }),
    };
    if (decodes) this.threads.push(thread);
    let answered = false;
    const fail = (err: Error) => {
      if (!answered) this.broken = true;
      if (this.readerThread === thread) this.readerThread = undefined;
      else this.threads.splice(this.threads.indexOf(thread), 1);
      for (const p of thread.pending.values()) p.reject(err);
      thread.pending.clear();
      void thread.worker.terminate();
    };
    thread.worker.on('message', (reply: ThreadReply & ReadReply) => {
      answered = true;
      const p = thread.pending.get(reply.id);
      thread.pending.delete(reply.id);
      p?.resolve(reply);
      if (thread.pending.size === 0) thread.worker.unref();
      if (this.all().every((t) => t.pending.size === 0)) this.scheduleStop();
    });
    thread.worker.on('error', fail);
    thread.worker.on('exit', (code) => {
      if (this.all().includes(thread)) fail(new Error(`decode thread exited with code ${code}`));
    });
    return thread;
  }

  private all(): Thread[] {
    return this.readerThread ? [...this.threads, this.readerThread] : this.threads;
  }

  private scheduleStop(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => void this.stop(), IDLE_STOP_MS);
    this.idleTimer.unref();
  }

  async stop(): Promise<void> {
    clearTimeout(this.idleTimer);
    const threads = [...this.all()];
    this.threads.splice(0);
    this.readerThread = undefined;
    // Their batches fail now (the loader reads and decodes those files itself), not never.
    for (const t of threads) {
      for (const p of t.pending.values()) p.reject(new Error('the decode threads were stopped'));
      t.pending.clear();
    }
    if (pool === this) pool = undefined;
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }
}

let pool: DecodePool | undefined;

/** The shared pool, started on first use; undefined when threads are turned off. */
export function decodePool(): DecodePool | undefined {
  const size = decodeThreadCount();
  if (size === 0) return undefined;
  pool ??= new DecodePool(size);
  return pool.broken ? undefined : pool;
}

/** Stops the decode threads now (tests, benchmarks; the engine lets them stop when idle). */
export async function stopDecodeThreads(): Promise<void> {
  await pool?.stop();
}
