// What every request handler of the worker gets: its request id, a cancel signal, a way to send
// events; plus the error mapping from thrown errors to the protocol's failure codes.

import type { EngineErrorCode, EngineEvent, EngineRequest, EngineResults } from '../../protocol/engine';
import type { BackendName, GpuAdapterReport } from '../../protocol/model';
import { EngineError, diskProblem } from '../../protocol/errors';

export interface RequestContext {
  id: number;
  /** Aborted by a `cancel` request naming this one. */
  signal: AbortSignal;
  emit(event: EngineEvent): void;
  /**
   * Resolves once every event emitted so far has left the worker. A large event (an encoding's
   * points) is otherwise written to the pipe piece by piece whenever the event loop turns, which
   * compute that follows it delays.
   */
  sent(): Promise<void>;
}

/** Facts about this worker, set once the backend is up. */
export const engineInfo: { backend: BackendName; tfjsVersion: string; adapter?: GpuAdapterReport } = { backend: 'cpu', tfjsVersion: '' };

export type RequestOf<T extends EngineRequest['type']> = Extract<EngineRequest, { type: T }>;
export type Handler<T extends EngineRequest['type']> = (req: RequestOf<T>, ctx: RequestContext) => Promise<EngineResults[T]>;

const OOM_PATTERN = /out of memory|cannot enlarge memory|allocation failed|array buffer allocation|OOM when allocating|std::bad_alloc/i;

/** Maps anything thrown by a handler to a failure code and a message in plain words. */
export function toFailure(err: unknown, req: EngineRequest): { code: EngineErrorCode; message: string } {
  const e = err as { code?: unknown; message?: unknown } | null;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  const code = typeof e?.code === 'string' ? e.code : undefined;
  // ('worker-crashed' is the client's code for a dead worker; the engine never meets it.)
  if (err instanceof EngineError) return { code: err.code === 'worker-crashed' ? 'internal' : err.code, message };
  if ((err as Error)?.name === 'AbortError') return { code: 'cancelled', message: `The ${req.type} request was cancelled.` };
  if (code === 'no-images' || code === 'bad-request' || code === 'backend-unavailable') return { code, message };
  if (OOM_PATTERN.test(message)) {
    return {
      code: 'out-of-memory',
      message: `The engine ran out of memory (${req.type}): ${message}. Try a smaller batch size, image size or model.`,
    };
  }
  const disk = diskProblem(err, `a file of ${req.type}`);
  if (disk) return { code: 'file-system', message: `${disk}, then run the command again.` };
  if (code === 'ENOENT') return { code: 'bad-request', message: `A file operation failed during ${req.type}: ${message}` };
  return { code: 'internal', message: `Unexpected engine error during ${req.type}: ${message}` };
}

/** Throws the protocol's 'cancelled' error when the request was cancelled. */
export function throwIfCancelled(ctx: RequestContext, what: string): void {
  if (ctx.signal.aborted) throw new EngineError('cancelled', `${what} was cancelled.`);
}

export function badRequest(message: string): EngineError {
  return new EngineError('bad-request', message);
}

/**
 * Runs a write of files a person asked for (samples, images, the demo set) into `dir`; a disk that
 * refuses it becomes a 'file-system' failure naming the file (or the folder) and what to do.
 */
export function writingFiles<T>(dir: string, work: () => Promise<T>): Promise<T> {
  return writingTo(`in ${dir}`, () => 'run the command again', work);
}

/**
 * Runs a write of `where`; a disk that refuses it becomes a 'file-system' failure naming the file
 * (Node's ENOSPC from a write names none) and what to do once it is fixed (`then`).
 */
export async function writingTo<T>(where: string, then: () => string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    const problem = diskProblem(err, where);
    if (!problem) throw err;
    throw new EngineError('file-system', `${problem}, then ${then()}.`);
  }
}

/** Refuses a file-name stem that would lead out of the folder the files go to. */
export function checkStem(stem: string): void {
  if (/[/\\]/.test(stem)) throw badRequest(`"${stem}" cannot start the names of image files: use a name without "/" or "\\".`);
}

/** Lets queued IPC messages (a cancel) in between batches of synchronous tensor work. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
