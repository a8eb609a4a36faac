// The owner's side of the engine protocol: forks the engine worker lazily, pairs replies with
// requests by id, forwards events, and turns a worker that dies into plain-words errors for every
// pending request (the next request starts a fresh worker). Used by the extension host and the
// CLI, so it must not import 'vscode'.

import { fork, type ChildProcess } from 'node:child_process';
import type { EngineEvent, EngineRequest, EngineResults, ReadyEvent, RequestBody, WorkerMessage, WorkerOptions } from '../protocol/engine';
import type { BackendReport } from '../protocol/model';
import { TypedEmitter } from './typedEmitter';
import { EngineError } from '../protocol/errors';

export interface EngineClientOptions {
  /** Path of the bundled worker (dist/worker.js). */
  workerPath: string;
  worker?: WorkerOptions;
  /** Node heap limit of the worker in MB. */
  maxOldSpaceMb?: number;
  /** Extra Node arguments for the worker (e.g. `--import tsx` to run it from source). */
  execArgv?: string[];
  /** How long dispose() waits for a clean shutdown before killing the worker. */
  shutdownTimeoutMs?: number;
}

/** How a worker process ended. */
export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The protocol's events keyed by their `type`: `ready` → ReadyEvent, `progress` → ProgressEvent, … */
type ByType<U extends { type: string }> = { [E in U as E['type']]: E };

/** What `EngineClient.events` sends, by name. */
export type EngineClientEvents = ByType<ReadyEvent | EngineEvent> & {
  /** Every event of every request (progress, epoch, status, warning). */
  event: EngineEvent;
  /** The current worker exited (the next request starts a fresh one). */
  exit: WorkerExit;
  /** Text the worker wrote on stderr: its own diagnostics and library chatter. */
  stderr: string;
};

interface Pending {
  type: EngineRequest['type'];
  /** The worker the request went to (a retired worker may still answer or die with it). */
  child: ChildProcess;
  resolve(value: unknown): void;
  reject(err: Error): void;
  onEvent?: (e: EngineEvent) => void;
}

/** What a request is doing, for the message when the worker dies during it. */
const DESCRIBE: Record<EngineRequest['type'], string> = {
  train: 'training',
  resume: 'resuming training',
  cancel: 'cancelling',
  encodeFolder: 'encoding a folder',
  decode: 'decoding',
  sample: 'sampling',
  reconstruct: 'reconstructing images',
  estimateLogPx: 'estimating log p(x)',
  project: 'projecting points',
  loadRun: 'loading a run',
  writeDecoded: 'writing images',
  writeSamples: 'sampling and writing images',
  writeSprite: 'writing the thumbnails sprite',
  scanLabels: 'reading the labels of a folder',
  writeDemoFolder: 'writing the demo images',
  exportOnnx: 'exporting to ONNX',
  describeModel: 'describing a model',
  neighbours: 'finding neighbours',
  exportCsv: 'exporting a table',
  readFilm: 'reading the film of a run',
  shutdown: 'shutting down',
};

export class EngineClient {
  /** Every event of every request, and 'ready' / 'exit' / 'stderr' of each worker. */
  readonly events = new TypedEmitter<EngineClientEvents>();
  private child: ChildProcess | undefined;
  private ready: Promise<ReadyEvent> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private lastReady: ReadyEvent | undefined;
  private stderrTail = '';
  private disposed = false;

  constructor(private readonly options: EngineClientOptions) {}

  /** The backend of the running worker (undefined before the first worker is ready). */
  get backend(): BackendReport | undefined {
    return this.lastReady?.backend;
  }

  get tfjsVersion(): string | undefined {
    return this.lastReady?.tfjsVersion;
  }

  /** Process id of the current worker, if one runs. */
  get workerPid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the worker now (requests also start it on demand) and resolves when it is ready. */
  start(): Promise<ReadyEvent> {
    if (this.disposed) return Promise.reject(new EngineError('internal', 'The engine client has been disposed.'));
    if (this.ready) return this.ready;
    const heap = this.options.maxOldSpaceMb ?? 8192;
    const child = fork(this.options.workerPath, [JSON.stringify(this.options.worker ?? { backend: 'auto' })], {
      serialization: 'advanced',
      execArgv: [...(this.options.execArgv ?? []), `--max-old-space-size=${heap}`],
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    this.child = child;
    this.stderrTail = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-4000);
      this.events.emit('stderr', chunk.toString('utf8'));
    });
    this.ready = new Promise<ReadyEvent>((resolve, reject) => {
      const onStartExit = () => reject(this.crashError(child, null, null, 'starting'));
      child.once('exit', onStartExit);
      child.on('message', (msg: WorkerMessage) => {
        if (msg.type === 'ready') {
          child.off('exit', onStartExit);
          this.lastReady = msg;
          this.events.emit('ready', msg);
          resolve(msg);
        } else if (msg.type === 'failure' && msg.id === 0) {
          // The worker could not start its backend (e.g. a forced backend that is not installed).
          child.off('exit', onStartExit);
          reject(new EngineError(msg.code, msg.message));
        } else {
          this.onMessage(child, msg);
        }
      });
    });
    // Avoid an unhandled rejection when nobody awaits start() directly.
    this.ready.catch(() => undefined);
    child.on('exit', (code, signal) => this.onExit(child, code, signal));
    return this.ready;
  }

  /** Sends a request; resolves with its result, rejects with an EngineError. */
  async request<T extends EngineRequest['type']>(body: RequestBody<T>, onEvent?: (e: EngineEvent) => void): Promise<EngineResults[T]> {
    const id = this.nextId++;
    return this.send<T>(id, body, onEvent);
  }

  /** Like request(), but gives the id at once so the caller can cancel it. */
  begin<T extends EngineRequest['type']>(
    body: RequestBody<T>,
    onEvent?: (e: EngineEvent) => void,
  ): { id: number; result: Promise<EngineResults[T]> } {
    const id = this.nextId++;
    return { id, result: this.send<T>(id, body, onEvent) };
  }

  private async send<T extends EngineRequest['type']>(
    id: number,
    body: RequestBody<T>,
    onEvent?: (e: EngineEvent) => void,
  ): Promise<EngineResults[T]> {
    await this.start();
    const child = this.child!;
    return new Promise<EngineResults[T]>((resolve, reject) => {
      this.pending.set(id, { type: body.type, child, resolve: resolve as (v: unknown) => void, reject, onEvent });
      child.send({ ...body, id } as EngineRequest, (err) => {
        if (err && this.pending.delete(id)) {
          reject(new EngineError('worker-crashed', `Could not send the request to the engine worker: ${err.message}`));
        }
      });
    });
  }

  /** Asks the worker to cancel a running request (training, encoding); true if it was running. */
  async cancel(target: number): Promise<boolean> {
    if (!this.child || !this.pending.has(target)) return false;
    const res = await this.request<'cancel'>({ type: 'cancel', target });
    return res.cancelled;
  }

  /** Asks the worker to shut down, then kills it if it has not exited after a timeout. */
  async dispose(): Promise<void> {
    this.disposed = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const timeout = this.options.shutdownTimeoutMs ?? 3000;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    try {
      const id = this.nextId++;
      this.pending.set(id, { type: 'shutdown', child, resolve: () => undefined, reject: () => undefined });
      child.send({ type: 'shutdown', id } satisfies EngineRequest, () => undefined);
    } catch {
      child.kill('SIGKILL');
    }
    await exited;
    clearTimeout(timer);
  }

  private onMessage(child: ChildProcess, msg: WorkerMessage): void {
    // A worker that is about to exit takes no new requests: the next one starts a fresh worker.
    if (msg.type === 'failure' && msg.fatal && this.child === child) {
      this.child = undefined;
      this.ready = undefined;
    }
    if (msg.type === 'reply' || msg.type === 'failure') {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.type === 'reply') p.resolve(msg.result);
      else p.reject(new EngineError(msg.code, msg.message));
      return;
    }
    if (msg.type === 'ready') return;
    this.events.emit('event', msg);
    this.events.emit(msg.type, msg);
    this.pending.get(msg.requestId)?.onEvent?.(msg);
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child === child) {
      this.child = undefined;
      this.ready = undefined;
    }
    this.events.emit('exit', { code, signal });
    const pending = [...this.pending.entries()].filter(([, p]) => p.child === child);
    for (const [id] of pending) this.pending.delete(id);
    for (const [, p] of pending) {
      if (p.type === 'shutdown') p.resolve({});
      else if (this.disposed) p.reject(new EngineError('cancelled', `The engine was shut down while ${DESCRIBE[p.type]}.`));
      else p.reject(this.crashError(child, code, signal, DESCRIBE[p.type]));
    }
  }

  private crashError(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null, doing: string): EngineError {
    code ??= child.exitCode;
    signal ??= child.signalCode;
    const tail = this.stderrTail;
    const oom =
      /heap out of memory|Allocation failed|out of memory|OOM|std::bad_alloc/i.test(tail) || (code === 134 && /memory/i.test(tail));
    if (oom) {
      const advice = /training/.test(doing)
        ? 'try a smaller batch size, image size or model'
        : /starting/.test(doing)
          ? 'raise the memory limit'
          : 'try fewer images or points at a time';
      return new EngineError(
        'out-of-memory',
        `The engine worker ran out of memory while ${doing}; ${advice} ` +
          `(the worker's memory limit is ${this.options.maxOldSpaceMb ?? 8192} MB). The next command starts a fresh worker.`,
      );
    }
    const how = signal ? `was stopped by signal ${signal}` : `exited with code ${String(code)}`;
    const detail = tail.trim() ? ` Its last words: ${tail.trim().split('\n').slice(-3).join(' | ')}` : '';
    return new EngineError('worker-crashed', `The engine worker ${how} while ${doing}. The next command starts a fresh worker.${detail}`);
  }
}
