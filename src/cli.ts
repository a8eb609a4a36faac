// latent-atlas: the headless entry on the same engine worker as the extension (train, resume,
// encode, sample, info, demo-data on a server without VS Code).
// Exit codes: 0 ok, 1 engine failure, 2 usage error, 3 no usable images, 130 cancelled.

import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { EngineRequest } from './protocol/engine';
import {
  DEFAULT_MODEL,
  DEFAULT_TRAINING,
  type BackendChoice,
  type ModelConfig,
  type Preprocessing,
  type TrainingConfig,
} from './protocol/model';
import { EngineClient, EngineError } from './host/engineClient';
import { ProgressView, infoText } from './cli-output';
import { readHistory, readManifest, trainingOwner } from './engine/runStore';
import { listEncodings } from './engine/runStore-encodings';
import { writeDemoFolder, writePngs } from './engine/data';

export const USAGE = `Usage:
  latent-atlas train <folder> | --demo [options]   train a VAE on an image folder (or the demo set)
      --epochs N  --out DIR (default ./.vae)  --name NAME  --latent N  --arch mlp|conv
      --likelihood bernoulli|gaussian  --sigma S  --beta B  --conditional  --batch N  --lr X
      --val F  --seed N  --size WxH  --channels 1|3  --iwae K
  latent-atlas resume <run> [--epochs N]            continue training a run to N epochs in total
  latent-atlas encode <run> <folder>                 encode every image of a folder (incremental)
  latent-atlas sample <run> -n N --out DIR [--label L] [--seed N]   write N sampled PNG files
  latent-atlas info <run>                            manifest, last figures and history of a run
  latent-atlas demo-data <dir>                       write the built-in demo images as PNG files
Every command that runs the engine takes --backend auto|wasm|cpu|tensorflow|tensorflow-gpu.
Exit codes: 0 ok, 1 engine failure, 2 usage error, 3 no usable images, 130 cancelled.
`;

export const EXIT = { ok: 0, failure: 1, usage: 2, noImages: 3, cancelled: 130 } as const;

class UsageError extends Error {}

type Values = Record<string, string | boolean | undefined>;

function parse(args: string[], options: ParseArgsConfig['options'], positionals: number): { values: Values; positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...options, backend: { type: 'string' } }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (parsed.positionals.length !== positionals) {
    throw new UsageError(`expected ${positionals} argument(s), got ${parsed.positionals.length}: ${parsed.positionals.join(' ') || '(none)'}`);
  }
  return { values: parsed.values as Values, positionals: parsed.positionals };
}

function num(values: Values, key: string, opts: { int?: boolean; min?: number; max?: number } = {}): number | undefined {
  const raw = values[key];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  const bad =
    typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n) || (opts.int && !Number.isInteger(n)) ||
    (opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max);
  if (bad) {
    const range = [opts.min !== undefined ? `≥ ${opts.min}` : '', opts.max !== undefined ? `≤ ${opts.max}` : ''].filter(Boolean).join(' and ');
    throw new UsageError(`--${key} must be ${opts.int ? 'a whole number' : 'a number'}${range ? ' ' + range : ''}, got "${String(raw)}"`);
  }
  return n;
}

function choice<T extends string>(values: Values, key: string, allowed: readonly T[]): T | undefined {
  const raw = values[key];
  if (raw === undefined) return undefined;
  if (!allowed.includes(raw as T)) throw new UsageError(`--${key} must be one of ${allowed.join(', ')}, got "${String(raw)}"`);
  return raw as T;
}

const BACKENDS = ['auto', 'wasm', 'cpu', 'tensorflow', 'tensorflow-gpu'] as const;

function workerClient(values: Values): EngineClient {
  const fromSource = __filename.endsWith('.ts');
  const client = new EngineClient({
    workerPath: fromSource ? join(__dirname, 'engine', 'worker.ts') : join(__dirname, 'worker.js'),
    // From source (development, tests) the worker runs through tsx too, resolved from here, not the cwd.
    execArgv: fromSource ? ['--import', pathToFileURL(createRequire(__filename).resolve('tsx')).href] : [],
    worker: { backend: choice<BackendChoice>(values, 'backend', BACKENDS) ?? 'auto' },
  });
  // The worker's own diagnostics (e.g. the stack of an internal error) reach the terminal;
  // library chatter on its stderr does not.
  client.events.on('stderr', (text: string) => {
    for (const line of text.split('\n')) if (line.startsWith('latent-atlas worker:')) process.stderr.write(line + '\n');
  });
  return client;
}

function today(): string {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** `<base>-<date>`, then `-2`, `-3`… so an existing run is never clobbered. */
export async function freeRunDir(outDir: string, base: string): Promise<string> {
  const stem = `${base.replace(/[^\p{L}\p{N}._-]+/gu, '_') || 'run'}-${today()}`;
  for (let i = 1; ; i++) {
    const dir = join(outDir, i === 1 ? stem : `${stem}-${i}`);
    try {
      await fs.access(dir);
    } catch {
      return dir;
    }
  }
}

/** Runs one long request with Ctrl-C wired to cancel it (a second Ctrl-C exits at once). */
async function runCancellable<T extends 'train' | 'resume' | 'encodeFolder'>(
  client: EngineClient,
  body: Omit<Extract<EngineRequest, { type: T }>, 'id'>,
  view: ProgressView,
) {
  const { id, result } = client.begin<T>(body as never, view.onEvent);
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) {
      view.line('Cancelling at the next step… (press Ctrl-C again to quit at once)');
      void client.cancel(id).catch(() => undefined);
    } else {
      view.line('Stopped.');
      process.exit(EXIT.cancelled);
    }
  };
  process.on('SIGINT', onSigint);
  try {
    return await result;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

async function train(args: string[], view: ProgressView): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      demo: { type: 'boolean' }, epochs: { type: 'string' }, out: { type: 'string' }, name: { type: 'string' },
      latent: { type: 'string' }, arch: { type: 'string' }, likelihood: { type: 'string' }, sigma: { type: 'string' },
      beta: { type: 'string' }, conditional: { type: 'boolean' }, batch: { type: 'string' }, lr: { type: 'string' },
      val: { type: 'string' }, seed: { type: 'string' }, size: { type: 'string' }, channels: { type: 'string' },
      iwae: { type: 'string' },
    },
    args.includes('--demo') ? 0 : 1,
  );
  const folder = values.demo ? undefined : resolve(positionals[0]!);
  const model: ModelConfig = {
    ...DEFAULT_MODEL,
    latentSize: num(values, 'latent', { int: true, min: 1, max: 4096 }) ?? DEFAULT_MODEL.latentSize,
    architecture: choice(values, 'arch', ['mlp', 'conv'] as const) ?? DEFAULT_MODEL.architecture,
    likelihood: choice(values, 'likelihood', ['bernoulli', 'gaussian'] as const) ?? DEFAULT_MODEL.likelihood,
    sigma: num(values, 'sigma', { min: 1e-6 }) ?? DEFAULT_MODEL.sigma,
    beta: num(values, 'beta', { min: 0 }) ?? DEFAULT_MODEL.beta,
    conditional: Boolean(values.conditional),
  };
  const training: TrainingConfig = {
    epochs: num(values, 'epochs', { int: true, min: 1 }) ?? DEFAULT_TRAINING.epochs,
    batchSize: num(values, 'batch', { int: true, min: 1 }) ?? DEFAULT_TRAINING.batchSize,
    learningRate: num(values, 'lr', { min: 0 }) ?? DEFAULT_TRAINING.learningRate,
    validationSplit: num(values, 'val', { min: 0, max: 0.9 }) ?? DEFAULT_TRAINING.validationSplit,
    seed: num(values, 'seed', { int: true, min: 0 }) ?? DEFAULT_TRAINING.seed,
  };
  const preprocessing: Partial<Preprocessing> = {};
  if (values.size !== undefined) {
    const m = /^(\d+)x(\d+)$/i.exec(String(values.size));
    if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new UsageError(`--size must look like 28x28, got "${String(values.size)}"`);
    preprocessing.width = Number(m[1]);
    preprocessing.height = Number(m[2]);
  }
  const channels = choice(values, 'channels', ['1', '3'] as const);
  if (channels) preprocessing.channels = Number(channels) as 1 | 3;
  const outDir = resolve(String(values.out ?? '.vae'));
  const runDir = values.name ? join(outDir, String(values.name)) : await freeRunDir(outDir, folder ? basename(folder) : 'demo');
  const client = workerClient(values);
  try {
    const ready = await client.start();
    view.line(`Training on ${folder ?? 'the built-in demo set'} with the ${ready.backend.name} backend → ${runDir}`);
    const res = await runCancellable<'train'>(
      client,
      {
        type: 'train', runDir, name: basename(runDir), dataset: folder ? { kind: 'folder', path: folder } : { kind: 'demo' },
        model, training, preprocessing, iwaeSamples: num(values, 'iwae', { int: true, min: 0 }) ?? 0,
      },
      view,
    );
    return finishTraining(res.state, res.manifest.epochsCompleted, res.runDir, view);
  } finally {
    await client.dispose();
  }
}

function finishTraining(state: 'complete' | 'cancelled', epochs: number, runDir: string, view: ProgressView): number {
  if (state === 'cancelled') {
    view.line(`Training cancelled after ${epochs} epoch(s); the run keeps its last good checkpoint: ${runDir}`);
    return EXIT.cancelled;
  }
  view.line(`Run saved: ${runDir}`);
  return EXIT.ok;
}

async function resumeRun(args: string[], view: ProgressView): Promise<number> {
  const { values, positionals } = parse(args, { epochs: { type: 'string' } }, 1);
  const client = workerClient(values);
  try {
    const epochs = num(values, 'epochs', { int: true, min: 1 });
    const res = await runCancellable<'resume'>(client, { type: 'resume', runDir: resolve(positionals[0]!), ...(epochs ? { epochs } : {}) }, view);
    return finishTraining(res.state, res.manifest.epochsCompleted, res.runDir, view);
  } finally {
    await client.dispose();
  }
}

async function encode(args: string[], view: ProgressView): Promise<number> {
  const { values, positionals } = parse(args, {}, 2);
  const client = workerClient(values);
  try {
    const enc = await runCancellable<'encodeFolder'>(
      client,
      { type: 'encodeFolder', runDir: resolve(positionals[0]!), folder: resolve(positionals[1]!) },
      view,
    );
    view.line(
      `Encoded ${enc.files.length} images of ${enc.folder} (${enc.encoded} now, ${enc.reused} re-used, ${enc.skipped.length} skipped) ` +
        `into ${join(enc.runDir, 'encodings')}`,
    );
    return EXIT.ok;
  } finally {
    await client.dispose();
  }
}

async function sample(args: string[], view: ProgressView): Promise<number> {
  const { values, positionals } = parse(args, { n: { type: 'string', short: 'n' }, out: { type: 'string' }, label: { type: 'string' }, seed: { type: 'string' } }, 1);
  const count = num(values, 'n', { int: true, min: 1, max: 100_000 });
  if (count === undefined) throw new UsageError('sample needs -n N (how many images)');
  if (typeof values.out !== 'string') throw new UsageError('sample needs --out DIR (where the PNG files go)');
  const seed = num(values, 'seed', { int: true, min: 0 });
  const client = workerClient(values);
  try {
    const res = await client.request<'sample'>({
      type: 'sample',
      runDir: resolve(positionals[0]!),
      count,
      mode: typeof values.label === 'string' ? { kind: 'label', label: values.label } : { kind: 'prior' },
      ...(seed !== undefined ? { seed } : {}),
    });
    const outDir = resolve(values.out);
    await fs.mkdir(outDir, { recursive: true });
    const files = await writePngs(res.images, outDir, typeof values.label === 'string' ? `sample-${values.label}` : 'sample');
    view.line(`Wrote ${files.length} images to ${outDir}`);
    return EXIT.ok;
  } finally {
    await client.dispose();
  }
}

async function info(args: string[], view: ProgressView): Promise<number> {
  const { positionals } = parse(args, {}, 1);
  const runDir = resolve(positionals[0]!);
  const manifest = await readManifest(runDir);
  let note = '';
  if (manifest.state === 'training') {
    const owner = await trainingOwner(runDir);
    note = owner
      ? ` (by process ${owner.pid} on ${owner.host})`
      : ` (interrupted: nothing trains it now; continue with "latent-atlas resume ${runDir}")`;
  }
  const text = infoText({ runDir, manifest, history: await readHistory(runDir, manifest), encodings: await listEncodings(runDir) }, note);
  view.line(text.trimEnd());
  return EXIT.ok;
}

async function demoData(args: string[], view: ProgressView): Promise<number> {
  const { positionals } = parse(args, {}, 1);
  const dir = resolve(positionals[0]!);
  const count = await writeDemoFolder(dir);
  view.line(`Wrote ${count} demo images to ${dir}`);
  return EXIT.ok;
}

const COMMANDS: Record<string, (args: string[], view: ProgressView) => Promise<number>> = {
  train,
  resume: resumeRun,
  encode,
  sample,
  info,
  'demo-data': demoData,
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const view = new ProgressView(process.stdout, process.stderr);
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    (command ? process.stdout : process.stderr).write(USAGE);
    return command ? EXIT.ok : EXIT.usage;
  }
  const run = COMMANDS[command];
  try {
    if (!run) throw new UsageError(`unknown command "${command}"`);
    return await run(rest, view);
  } catch (err) {
    view.clearBar();
    if (err instanceof UsageError) {
      process.stderr.write(`latent-atlas: ${err.message}\n\n${USAGE}`);
      return EXIT.usage;
    }
    const e = err as { code?: string; message?: string };
    process.stderr.write(`latent-atlas: ${e?.message ?? String(err)}\n`);
    if (e?.code === 'no-images') return EXIT.noImages;
    if (e?.code === 'cancelled') return EXIT.cancelled;
    if (e?.code === 'bad-request' || e?.code === 'not-a-run') return EXIT.usage;
    if (!(err instanceof EngineError) && !e?.code) process.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
    return EXIT.failure;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
