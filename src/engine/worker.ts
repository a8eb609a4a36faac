// The engine worker process (bundled to dist/worker.js, forked by EngineClient with
// `serialization: 'advanced'`). It picks a backend, says `ready`, then answers every request with
// exactly one reply or failure, sending events tagged with the request id in between. A failing
// request never stops the worker; an error nothing caught does (see fatal()); `shutdown` replies
// and exits.
//
// When the backend cannot start (a forced backend that is not installed), the worker sends one
// failure with id 0 and code 'backend-unavailable' and exits: the client reports it as the
// start-up failure.

import type { EngineEvent, EngineRequest, EngineResults, WorkerMessage, WorkerOptions } from '../protocol/engine';
import { initBackend } from './backends/ladder';
import { onDeviceLost } from './backends/webgpu';
import { badRequest, engineInfo, toFailure, type Handler, type RequestContext } from './handlers/context';
import {
  handleDecode,
  handleEncodeFolder,
  handleEstimateLogPx,
  handleReconstruct,
  handleSample,
  handleWriteDecoded,
  handleExportOnnx,
  handleWriteSamples,
} from './handlers/model';
import {
  handleDescribeModel,
  handleLoadRun,
  handleProject,
  handleScanLabels,
  handleWriteDemoFolder,
  handleWriteSprite,
} from './handlers/run';
import { handleResume, handleTrain } from './handlers/train';
import { handleExportCsv, handleNeighbours } from './handlers/neighbours';
import { handleReadFilm } from './handlers/film';

type Handlers = { [T in EngineRequest['type']]?: Handler<T> };

const running = new Map<number, AbortController>();

/**
 * Fails every running request and exits: for states this process cannot recover from (a lost GPU
 * device, an error nothing caught). The next request starts a fresh worker; a training keeps its
 * last committed checkpoint and can be resumed.
 */
function failAllAndExit(code: 'device-lost' | 'internal', message: string, exitCode: number): void {
  for (const id of running.keys()) send({ type: 'failure', id, code, message, fatal: true });
  setImmediate(() => process.exit(exitCode));
}

onDeviceLost((message) => {
  process.stderr.write(`latent-atlas worker: ${message}\n`);
  failAllAndExit('device-lost', message, 4);
});

/** Settles when the last message sent has been written (IPC writes them in order). */
let lastWritten: Promise<void> = Promise.resolve();

function send(msg: WorkerMessage): void {
  if (!process.connected) return;
  lastWritten = new Promise((resolve) => process.send!(msg, undefined, {}, () => resolve()));
}

const handlers: Handlers = {
  train: handleTrain,
  resume: handleResume,
  loadRun: handleLoadRun,
  encodeFolder: handleEncodeFolder,
  decode: handleDecode,
  sample: handleSample,
  reconstruct: handleReconstruct,
  estimateLogPx: handleEstimateLogPx,
  project: handleProject,
  writeDecoded: handleWriteDecoded,
  writeSamples: handleWriteSamples,
  writeSprite: handleWriteSprite,
  scanLabels: handleScanLabels,
  writeDemoFolder: handleWriteDemoFolder,
  exportOnnx: handleExportOnnx,
  describeModel: handleDescribeModel,
  neighbours: handleNeighbours,
  exportCsv: handleExportCsv,
  readFilm: handleReadFilm,
  cancel: async (req) => {
    const target = running.get(req.target);
    if (!target || target.signal.aborted) return { cancelled: false };
    target.abort();
    return { cancelled: true };
  },
  shutdown: async (req) => {
    for (const [id, c] of running) if (id !== req.id) c.abort();
    // Give cancelled work (a training writing its final run.json) a moment to finish cleanly.
    const deadline = Date.now() + 2000;
    while (running.size > 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return {};
  },
};

async function dispatch(req: EngineRequest): Promise<void> {
  if (typeof req?.id !== 'number' || typeof req.type !== 'string') {
    process.stderr.write(`latent-atlas worker: ignored a message that is not a request: ${JSON.stringify(req)}\n`);
    return;
  }
  const controller = new AbortController();
  running.set(req.id, controller);
  const ctx: RequestContext = {
    id: req.id,
    signal: controller.signal,
    emit: (event: EngineEvent) => send(event),
    sent: () => lastWritten,
  };
  try {
    const handler = handlers[req.type] as Handler<typeof req.type> | undefined;
    if (!handler) throw badRequest(`The engine does not know the request "${req.type}".`);
    const result = await handler(req as never, ctx);
    send({ type: 'reply', id: req.id, request: req.type, result: result as EngineResults[typeof req.type] });
  } catch (err) {
    const failure = toFailure(err, req);
    if (failure.code === 'internal') process.stderr.write(`latent-atlas worker: ${(err as Error)?.stack ?? String(err)}\n`);
    send({ type: 'failure', id: req.id, ...failure });
  } finally {
    running.delete(req.id);
  }
  if (req.type === 'shutdown') setImmediate(() => process.exit(0));
}

async function main(): Promise<void> {
  let options: WorkerOptions = { backend: 'auto' };
  try {
    if (process.argv[2]) options = JSON.parse(process.argv[2]) as WorkerOptions;
  } catch {
    process.stderr.write(`latent-atlas worker: cannot parse the options argument ${process.argv[2]}; using the defaults.\n`);
  }
  // Requests that arrive while the backend starts wait for it.
  const queue: EngineRequest[] = [];
  let started = false;
  process.on('message', (msg: EngineRequest) => {
    if (started) void dispatch(msg);
    else queue.push(msg);
  });
  // The owner went away: nobody is left to answer to.
  process.on('disconnect', () => process.exit(0));
  // Ctrl-C in a terminal reaches the whole process group; the owner decides (cancel, then exit).
  process.on('SIGINT', () => undefined);
  try {
    const { tf, report } = await initBackend(options);
    engineInfo.backend = report.name;
    engineInfo.adapter = report.adapter;
    engineInfo.tfjsVersion = tf.version.tfjs;
    send({ type: 'ready', backend: report, tfjsVersion: tf.version.tfjs });
  } catch (err) {
    const e = err as { code?: string; message?: string };
    send({ type: 'failure', id: 0, code: 'backend-unavailable', message: e?.message ?? String(err) });
    setImmediate(() => process.exit(3));
    return;
  }
  started = true;
  for (const msg of queue.splice(0)) void dispatch(msg);
}

// An error nothing caught may have left tensors, files or the backend half-done: this process
// stops serving rather than answer later requests from that state.
function fatal(what: string, err: unknown): void {
  const e = err as Error | undefined;
  process.stderr.write(`latent-atlas worker: ${what}: ${e?.stack ?? String(err)}\n`);
  failAllAndExit(
    'internal',
    `The engine stopped after an unexpected error (${e?.message ?? String(err)}). It restarts with the next command; a training keeps its last checkpoint and can be resumed.`,
    70,
  );
}
process.on('uncaughtException', (err) => fatal('uncaught error', err));
process.on('unhandledRejection', (err) => fatal('unhandled rejection', err));

if (!process.send) {
  process.stderr.write('latent-atlas worker: this file is the engine worker; it must be started by the extension or the CLI over IPC.\n');
  process.exit(2);
}
void main();
