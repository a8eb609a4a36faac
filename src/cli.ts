// latent-atlas: the headless entry on the same engine worker as the extension (train, resume,
// encode, sample, info, demo-data on a server without VS Code).
// Exit codes: 0 ok, 1 engine failure, 2 usage error, 3 no usable images, 4 file-system failure,
// 130 cancelled.

import { appendFileSync, constants, mkdirSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Encoding, RequestBody, TrainResult } from './protocol/engine';
import { LIMITS, type Limit } from './protocol/limits';
import {
  DEFAULT_MODEL,
  DEFAULT_TRAINING,
  type BackendChoice,
  type ModelConfig,
  type Preprocessing,
  type TrainingConfig,
} from './protocol/model';
import { EngineClient } from './client/engineClient';
import { EngineError, diskProblem } from './protocol/errors';
import { ProgressView, infoText } from './cli-output';
import { parseImageSize } from './protocol/imageSize';
import type { DescribeAnswers, DescribeQuestion, NetShape } from './protocol/importedModel';
import { RUN_FILE, runNameMessage } from './protocol/runName';
import { backendText } from './protocol/backendText';
import { labelWarning } from './protocol/labels';

export const USAGE = `Usage:
  latent-atlas train <folder> | --demo [options]   train a VAE on an image folder (or the demo set)
      --epochs N  --out DIR (default ./.vae)  --name NAME  --latent N  --arch mlp|conv
      --likelihood bernoulli|gaussian  --sigma S  --beta B  --conditional  --batch N  --lr X
      --val F  --seed N  --size WxH  --channels 1|3  --iwae K
  latent-atlas resume <run> [--epochs N] [--iwae K]  continue training a run to N epochs in total
  latent-atlas encode <run> <folder>                 encode every image of a folder (incremental)
  latent-atlas sample <run> -n N --out DIR [--label L] [--seed N]   write N sampled PNG files
  latent-atlas info <run>                            manifest, last figures and history of a run
  latent-atlas neighbours <run> <image> [-k N] [--metric euclidean|bhattacharyya]
                                                     the encoded images nearest to an image in latent space
  latent-atlas export <run> <folder> --csv FILE      every point of an encoded folder as a CSV table
  latent-atlas export-onnx <run> [--out DIR]         write encoder.onnx, decoder.onnx and their manifest
                                                     (default DIR: <run>/onnx)
  latent-atlas describe <folder> [options]           write latent-atlas-model.json for ONNX/tfjs model files
      --encoder F  --decoder F  --layout NCHW|NHWC  --size WxH  --channels 1|3
      --range LO,HI | --mean M[,M,M] --std S[,S,S]  --decoder-output logits|probabilities|means
      --sigma S  --classes A,B,...  --name NAME   (what the shapes tell is inferred; it asks for the rest)
A <run> is a run folder (run.json) or a model trained elsewhere (latent-atlas-model.json beside
its ONNX or tfjs files; see the README's "Bring your own model").
  latent-atlas demo-data <dir>                       write the built-in demo images as PNG files
Every command that runs the engine takes --backend auto|tensorflow-gpu|webgpu|tensorflow|wasm|cpu.
Exit codes: 0 ok, 1 engine failure, 2 usage error, 3 no usable images, 4 file-system failure
(disk full, no permission), 130 cancelled.
`;

export const EXIT = { ok: 0, failure: 1, usage: 2, noImages: 3, fileSystem: 4, cancelled: 130 } as const;

/** A wrong argument; `showUsage` false when the message alone says what to change. */
class UsageError extends Error {
  constructor(
    message: string,
    readonly showUsage = true,
  ) {
    super(message);
  }
}

/** The disk refused: full, read-only, no permission (exit 4); the message names the file and the fix. */

/** How many images one `sample` may write. */
const SAMPLE_COUNT: Limit = { min: 1, max: 100_000, int: true };

type Values = Record<string, string | boolean | undefined>;

function parse(args: string[], options: ParseArgsConfig['options'], positionals: number): { values: Values; positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...options, backend: { type: 'string' } }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (parsed.positionals.length !== positionals) {
    throw new UsageError(
      `expected ${positionals} argument(s), got ${parsed.positionals.length}: ${parsed.positionals.join(' ') || '(none)'}`,
    );
  }
  return { values: parsed.values as Values, positionals: parsed.positionals };
}

/** A numeric flag within the bounds the extension's settings use too (src/protocol/limits.ts). */
function num(values: Values, key: string, limit: Limit): number | undefined {
  const raw = values[key];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  const bad =
    typeof raw !== 'string' ||
    raw.trim() === '' ||
    !Number.isFinite(n) ||
    (limit.int && !Number.isInteger(n)) ||
    n < limit.min ||
    n > limit.max;
  if (bad)
    throw new UsageError(
      `--${key} must be ${limit.int ? 'a whole number' : 'a number'} from ${limit.min} to ${limit.max}, got "${String(raw)}"`,
    );
  return n;
}

function choice<T extends string>(values: Values, key: string, allowed: readonly T[]): T | undefined {
  const raw = values[key];
  if (raw === undefined) return undefined;
  if (!allowed.includes(raw as T)) throw new UsageError(`--${key} must be one of ${allowed.join(', ')}, got "${String(raw)}"`);
  return raw as T;
}

const BACKENDS = ['auto', 'tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'] as const;

function workerClient(values: Values): EngineClient {
  const fromSource = __filename.endsWith('.ts');
  const client = new EngineClient({
    workerPath: fromSource ? join(__dirname, 'engine', 'worker.ts') : join(__dirname, 'worker.js'),
    // From source (development, tests) the worker runs through tsx too, resolved from here, not the cwd.
    execArgv: fromSource ? ['--import', pathToFileURL(createRequire(__filename).resolve('tsx')).href] : [],
    worker: { backend: choice<BackendChoice>(values, 'backend', BACKENDS) ?? 'auto' },
  });
  // The first line of the worker's own diagnostics reaches the terminal; everything it writes
  // (stacks, library chatter) goes to the details log.
  client.events.on('stderr', (text) => {
    logDetails(text);
    for (const line of text.split('\n')) if (line.startsWith('latent-atlas worker:')) process.stderr.write(line + '\n');
  });
  return client;
}

/** Where this CLI process keeps what a person should not have to read: stacks, worker stderr. */
const DETAILS_LOG = join(tmpdir(), 'latent-atlas', `cli-${process.pid}.log`);

function logDetails(text: string): void {
  try {
    mkdirSync(dirname(DETAILS_LOG), { recursive: true });
    appendFileSync(DETAILS_LOG, text.endsWith('\n') ? text : `${text}\n`);
  } catch {
    // a log that cannot be written must not hide the error being reported
  }
}

function today(): string {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** `<base>-<date>`, then `-2`, `-3`… so an existing run is never clobbered. */
export async function freeRunDir(outDir: string, base: string): Promise<string> {
  // A valid run name (see runNameProblem): no leading dot, no "..".
  const stem = `${
    base
      .replace(/[^\p{L}\p{N}._-]+/gu, '_')
      .replace(/\.{2,}/g, '.')
      .replace(/^\.+/, '') || 'run'
  }-${today()}`;
  for (let i = 1; ; i++) {
    const dir = join(outDir, i === 1 ? stem : `${stem}-${i}`);
    try {
      await fs.access(dir);
    } catch {
      return dir;
    }
  }
}

/** The folder of the run `name` in `outDir`; a name that would lead out of it is refused. */
function namedRunDir(outDir: string, name: string): string {
  const problem = runNameMessage(name, outDir);
  if (problem) throw new UsageError(problem, false);
  return join(outDir, name);
}

/** `s` as one word for a shell command a person may copy. */
function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Refuses, before any work, an output folder that cannot be one (a file on its path) or that the
 * disk will not let us write in. Missing folders are fine: they are created.
 */
async function checkOutputFolder(what: string, dir: string): Promise<void> {
  let existing = dir;
  for (;;) {
    const stat = await fs.stat(existing).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return null;
      throw err;
    });
    if (stat?.isDirectory()) break;
    if (stat) {
      const why = existing === dir ? 'is a file, not a folder' : `cannot be a folder: ${existing} is a file`;
      throw new UsageError(`${what} ${dir} ${why}; choose a folder (it is created if missing).`, false);
    }
    if (dirname(existing) === existing) break;
    existing = dirname(existing);
  }
  try {
    await fs.access(existing, constants.W_OK);
  } catch (err) {
    throw new EngineError(
      'file-system',
      `Cannot write in ${existing} (${(err as NodeJS.ErrnoException).code}): make it writable or pick another folder for ${what}.`,
    );
  }
}

/** A failed write of a run: the engine says "resume the run"; add the command that does it. */
async function withResumeCommand(err: unknown, runDir: string): Promise<unknown> {
  if ((err as EngineError)?.code !== 'file-system') return err;
  const isRun = await fs.access(join(runDir, RUN_FILE)).then(
    () => true,
    () => false,
  );
  return isRun ? new EngineError('file-system', `${(err as Error).message}\nContinue with: latent-atlas resume ${shellWord(runDir)}`) : err;
}

/**
 * Runs one long request with Ctrl-C wired to cancel it (a second Ctrl-C exits at once).
 * `interrupted`: Ctrl-C was pressed, even if the engine finished before the cancel reached it.
 */
async function runCancellable<T extends 'train' | 'resume' | 'encodeFolder'>(
  client: EngineClient,
  body: RequestBody<T>,
  view: ProgressView,
) {
  const { id, result } = client.begin<T>(body, view.onEvent);
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
    return { result: await result, interrupted: interrupts > 0 };
  } finally {
    process.off('SIGINT', onSigint);
  }
}

async function train(args: string[], view: ProgressView): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      demo: { type: 'boolean' },
      epochs: { type: 'string' },
      out: { type: 'string' },
      name: { type: 'string' },
      latent: { type: 'string' },
      arch: { type: 'string' },
      likelihood: { type: 'string' },
      sigma: { type: 'string' },
      beta: { type: 'string' },
      conditional: { type: 'boolean' },
      batch: { type: 'string' },
      lr: { type: 'string' },
      val: { type: 'string' },
      seed: { type: 'string' },
      size: { type: 'string' },
      channels: { type: 'string' },
      iwae: { type: 'string' },
    },
    args.includes('--demo') ? 0 : 1,
  );
  const folder = values.demo ? undefined : resolve(positionals[0]!);
  const model: ModelConfig = {
    ...DEFAULT_MODEL,
    latentSize: num(values, 'latent', LIMITS.latentSize) ?? DEFAULT_MODEL.latentSize,
    architecture: choice(values, 'arch', ['mlp', 'conv'] as const) ?? DEFAULT_MODEL.architecture,
    likelihood: choice(values, 'likelihood', ['bernoulli', 'gaussian'] as const) ?? DEFAULT_MODEL.likelihood,
    sigma: num(values, 'sigma', LIMITS.sigma) ?? DEFAULT_MODEL.sigma,
    beta: num(values, 'beta', LIMITS.beta) ?? DEFAULT_MODEL.beta,
    conditional: Boolean(values.conditional),
  };
  const training: TrainingConfig = {
    epochs: num(values, 'epochs', LIMITS.epochs) ?? DEFAULT_TRAINING.epochs,
    batchSize: num(values, 'batch', LIMITS.batchSize) ?? DEFAULT_TRAINING.batchSize,
    learningRate: num(values, 'lr', LIMITS.learningRate) ?? DEFAULT_TRAINING.learningRate,
    validationSplit: num(values, 'val', LIMITS.validationSplit) ?? DEFAULT_TRAINING.validationSplit,
    seed: num(values, 'seed', LIMITS.seed) ?? DEFAULT_TRAINING.seed,
  };
  const iwaeSamples = num(values, 'iwae', LIMITS.iwaeSamples) ?? 0;
  const preprocessing: Partial<Preprocessing> = {};
  if (values.size !== undefined) {
    const size = parseImageSize(String(values.size));
    const { min, max } = LIMITS.imageSide;
    if (!size) throw new UsageError(`--size must look like 28x28, with sides from ${min} to ${max}, got "${String(values.size)}"`);
    Object.assign(preprocessing, size);
  }
  const channels = choice(values, 'channels', ['1', '3'] as const);
  if (channels) preprocessing.channels = Number(channels) as 1 | 3;
  const outDir = resolve(String(values.out ?? '.vae'));
  await checkOutputFolder('--out', outDir);
  const runDir = values.name ? namedRunDir(outDir, String(values.name)) : await freeRunDir(outDir, folder ? basename(folder) : 'demo');
  const client = workerClient(values);
  try {
    const ready = await client.start();
    if (folder) await warnOfLabels(client, folder);
    view.line(`Training on ${folder ?? 'the built-in demo set'} with ${backendText(ready.backend)} → ${runDir}`);
    const { result, interrupted } = await runCancellable<'train'>(
      client,
      {
        type: 'train',
        runDir,
        name: basename(runDir),
        dataset: folder ? { kind: 'folder', path: folder } : { kind: 'demo' },
        model,
        training,
        preprocessing,
        iwaeSamples,
      },
      view,
    );
    return finishTraining(result, interrupted, view);
  } catch (err) {
    throw await withResumeCommand(err, runDir);
  } finally {
    await client.dispose();
  }
}

/** The extension's warning before training, when sub-folders will not be classes, on stderr; training goes on. */
async function warnOfLabels(client: EngineClient, folder: string): Promise<void> {
  // A folder that cannot be scanned is the training's to report, in its own words.
  const scan = await client.request<'scanLabels'>({ type: 'scanLabels', folder }).catch(() => null);
  const warning = scan && labelWarning(scan);
  if (!warning) return;
  const below =
    warning.below === undefined
      ? ''
      : `\nTo train on the folder below instead: latent-atlas train ${shellWord(join(folder, warning.below))}`;
  process.stderr.write(`latent-atlas: warning: ${warning.message}${below}\n`);
}

/** 0 when the run completed; after Ctrl-C 130, saying what the run kept and how to go on. */
function finishTraining(res: TrainResult, interrupted: boolean, view: ProgressView): number {
  const { runDir, manifest: m } = res;
  if (res.state === 'complete' && !interrupted) {
    view.line(`Run saved: ${runDir}`);
    return EXIT.ok;
  }
  const resume = `latent-atlas resume ${shellWord(runDir)}`;
  if (m.epochsCompleted >= m.training.epochs) {
    // The stop reached the engine after the last epoch's steps: that epoch was finished and saved.
    view.line(`Training stopped after its last epoch had finished: all ${m.epochsCompleted} epochs are saved in ${runDir}`);
    view.line(`Train it further with: ${resume} --epochs ${m.epochsCompleted + 10}`);
  } else if (m.checkpoint) {
    view.line(
      `Training cancelled after ${m.epochsCompleted} of ${m.training.epochs} epochs; the run keeps its last good checkpoint (epoch ${m.epochsCompleted}): ${runDir}`,
    );
    view.line(`Continue it with: ${resume}`);
  } else {
    view.line(`Training cancelled before its first epoch ended; no checkpoint was saved: ${runDir}`);
    view.line(`Start it again with: ${resume}`);
  }
  return EXIT.cancelled;
}

async function resumeRun(args: string[], view: ProgressView): Promise<number> {
  const { values, positionals } = parse(args, { epochs: { type: 'string' }, iwae: { type: 'string' } }, 1);
  const epochs = num(values, 'epochs', LIMITS.epochs);
  const iwaeSamples = num(values, 'iwae', LIMITS.iwaeSamples);
  const runDir = resolve(positionals[0]!);
  const client = workerClient(values);
  try {
    const { result, interrupted } = await runCancellable<'resume'>(
      client,
      { type: 'resume', runDir, ...(epochs !== undefined ? { epochs } : {}), ...(iwaeSamples !== undefined ? { iwaeSamples } : {}) },
      view,
    );
    return finishTraining(result, interrupted, view);
  } catch (err) {
    throw await withResumeCommand(err, runDir);
  } finally {
    await client.dispose();
  }
}

async function encode(args: string[], view: ProgressView): Promise<number> {
  const { values, positionals } = parse(args, {}, 2);
  const client = workerClient(values);
  try {
    const { result: enc } = await runCancellable<'encodeFolder'>(
      client,
      { type: 'encodeFolder', runDir: resolve(positionals[0]!), folder: resolve(positionals[1]!) },
      view,
    );
    view.line(
      `Encoded ${enc.files.length} images of ${enc.folder} (${enc.encoded} now, ${enc.reused} re-used, ${enc.skipped.length} skipped) ` +
        `into ${join(enc.runDir, 'encodings')}`,
    );
    const worst = worstReconstructed(enc, 5);
    if (worst) view.line(worst);
    return EXIT.ok;
  } finally {
    await client.dispose();
  }
}

/** The images the model reconstructs worst (highest −log p(x|z)), as lines for a person. */
function worstReconstructed(enc: Encoding, count: number): string | null {
  const terms = enc.terms;
  if (!terms || enc.files.length === 0) return null;
  const order = Array.from(enc.files.keys())
    .filter((i) => Number.isFinite(terms.reconstruction[i]!))
    .sort((a, b) => terms.reconstruction[b]! - terms.reconstruction[a]!)
    .slice(0, count);
  const rows = order.map((i) => {
    const rec = terms.reconstruction[i]!;
    const kl = terms.kl[i]!;
    return `  ${relative(enc.folder, enc.files[i]!)}  reconstruction ${rec.toFixed(1)}  KL ${kl.toFixed(1)}  −ELBO ${(rec + kl).toFixed(1)} nats`;
  });
  return [`Worst reconstructed (of ${enc.files.length}):`, ...rows].join('\n');
}

async function sample(args: string[], view: ProgressView): Promise<number> {
  const { values, positionals } = parse(
    args,
    { n: { type: 'string', short: 'n' }, out: { type: 'string' }, label: { type: 'string' }, seed: { type: 'string' } },
    1,
  );
  const count = num(values, 'n', SAMPLE_COUNT);
  if (count === undefined) throw new UsageError('sample needs -n N (how many images)');
  if (typeof values.out !== 'string') throw new UsageError('sample needs --out DIR (where the PNG files go)');
  const seed = num(values, 'seed', LIMITS.seed);
  const outDir = resolve(values.out);
  await checkOutputFolder('--out', outDir);
  const client = workerClient(values);
  try {
    // The worker samples and writes the PNG files itself: no pixels travel to this process.
    const { files } = await client.request<'writeSamples'>({
      type: 'writeSamples',
      runDir: resolve(positionals[0]!),
      count,
      mode: typeof values.label === 'string' ? { kind: 'label', label: values.label } : { kind: 'prior' },
      ...(seed !== undefined ? { seed } : {}),
      dir: outDir,
      stem: typeof values.label === 'string' ? `sample-${values.label}` : 'sample',
    });
    view.line(`Wrote ${files.length} images to ${outDir}`);
    return EXIT.ok;
  } finally {
    await client.dispose();
  }
}

async function info(args: string[], view: ProgressView): Promise<number> {
  const { values, positionals } = parse(args, {}, 1);
  const runDir = resolve(positionals[0]!);
  const client = workerClient(values);
  try {
    // Damage read past (a missing checkpoint, a broken history line) arrives as warnings, on stderr.
    const run = await client.request<'loadRun'>({ type: 'loadRun', runDir }, view.onEvent);
    view.line(infoText({ ...run, runDir }).trimEnd());
    return EXIT.ok;
  } finally {
    await client.dispose();
  }
}

async function demoData(args: string[], view: ProgressView): Promise<number> {
  const { values, positionals } = parse(args, {}, 1);
  const dir = resolve(positionals[0]!);
  await checkOutputFolder('demo-data', dir);
  const client = workerClient(values);
  try {
    const { count } = await client.request<'writeDemoFolder'>({ type: 'writeDemoFolder', dir });
    view.line(`Wrote ${count} demo images to ${dir}`);
    return EXIT.ok;
  } finally {
    await client.dispose();
  }
}

async function exportOnnx(args: string[], view: ProgressView): Promise<number> {
  const { values, positionals } = parse(args, { out: { type: 'string' } }, 1);
  const runDir = resolve(positionals[0]!);
  const dir = typeof values.out === 'string' ? resolve(values.out) : join(runDir, 'onnx');
  const client = workerClient(values);
  try {
    const { files } = await client.request<'exportOnnx'>({ type: 'exportOnnx', runDir, dir });
    view.line(`Wrote ${files.map((f) => basename(f)).join(', ')} to ${dir}`);
    return EXIT.ok;
  } finally {
    await client.dispose();
  }
}

async function neighbours(args: string[], view: ProgressView): Promise<number> {
  const { values, positionals } = parse(args, { k: { type: 'string', short: 'k' }, metric: { type: 'string' } }, 2);
  const k = num(values, 'k', { min: 1, max: 1000, int: true }) ?? 10;
  const metric = choice(values, 'metric', ['euclidean', 'bhattacharyya'] as const) ?? 'euclidean';
  const client = workerClient(values);
  try {
    const r = await client.request<'neighbours'>({
      type: 'neighbours',
      runDir: resolve(positionals[0]!),
      file: resolve(positionals[1]!),
      k,
      metric,
    });
    view.line(`${r.neighbours.length} nearest to ${r.file} (${metric}${r.inEncoding ? '' : '; the image was encoded for this query'}):`);
    r.neighbours.forEach((n, i) =>
      view.line(`${String(i + 1).padStart(4)}  ${n.distance.toFixed(4).padStart(9)}  ${n.label ?? '-'}  ${n.file}`),
    );
    return EXIT.ok;
  } finally {
    await client.dispose();
  }
}

async function exportTable(args: string[], view: ProgressView): Promise<number> {
  const { values, positionals } = parse(args, { csv: { type: 'string' } }, 2);
  if (typeof values.csv !== 'string') throw new UsageError('export needs --csv FILE (where the table goes)');
  const path = resolve(values.csv);
  await checkOutputFolder('--csv', dirname(path));
  const client = workerClient(values);
  try {
    const r = await client.request<'exportCsv'>({
      type: 'exportCsv',
      runDir: resolve(positionals[0]!),
      folder: resolve(positionals[1]!),
      path,
    });
    view.line(`Wrote ${r.rows} rows to ${r.path}`);
    return EXIT.ok;
  } finally {
    await client.dispose();
  }
}

/** Comma-separated numbers of a flag, or undefined. */
function numbers(values: Values, key: string): number[] | undefined {
  const raw = values[key];
  if (raw === undefined) return undefined;
  const list = String(raw).split(',').map(Number);
  if (list.length === 0 || list.some((n) => !Number.isFinite(n)))
    throw new UsageError(`--${key} takes comma-separated numbers, got "${String(raw)}"`);
  return list;
}

/** The flag that answers each question of `describe`. */
const DESCRIBE_FLAGS: Record<DescribeQuestion['field'], string> = {
  files: '--encoder F --decoder F',
  conditional: '(write the manifest by hand)',
  size: '--size WxH --channels 1|3',
  layout: '--layout NCHW|NHWC',
  latentSize: '(the decoder must take [N, latentSize])',
  encoderOutputs: '(the encoder must return μ and log σ²)',
  normalize: '--range 0,1 | --range -1,1 | --mean M --std S',
  decoderOutput: '--decoder-output logits|probabilities|means [--sigma S]',
};

async function describe(args: string[], view: ProgressView): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      encoder: { type: 'string' },
      decoder: { type: 'string' },
      layout: { type: 'string' },
      size: { type: 'string' },
      channels: { type: 'string' },
      range: { type: 'string' },
      mean: { type: 'string' },
      std: { type: 'string' },
      'decoder-output': { type: 'string' },
      sigma: { type: 'string' },
      classes: { type: 'string' },
      name: { type: 'string' },
    },
    1,
  );
  const dir = resolve(positionals[0]!);
  const answers: DescribeAnswers = {};
  if (typeof values.encoder === 'string') answers.encoder = values.encoder;
  if (typeof values.decoder === 'string') answers.decoder = values.decoder;
  const layout = choice(values, 'layout', ['NCHW', 'NHWC'] as const);
  if (layout) answers.layout = layout;
  if (typeof values.size === 'string') {
    const size = parseImageSize(values.size);
    if (!size) throw new UsageError(`--size must be WxH (e.g. 28x28), got "${values.size}"`);
    const channels = choice(values, 'channels', ['1', '3'] as const);
    if (!channels) throw new UsageError('--size needs --channels 1|3 too');
    answers.size = { ...size, channels: Number(channels) as 1 | 3 };
  }
  const range = numbers(values, 'range');
  const mean = numbers(values, 'mean');
  const std = numbers(values, 'std');
  if (range && (mean || std)) throw new UsageError('give --range or --mean/--std, not both');
  if (range) {
    if (range.length !== 2 || range[0] === range[1]) throw new UsageError('--range takes two different numbers LO,HI');
    answers.normalize = range[0] === 0 && range[1] === 1 ? 'none' : { range: [range[0]!, range[1]!] };
  } else if (mean || std) {
    if (!mean || !std) throw new UsageError('--mean and --std go together');
    answers.normalize = { mean, std };
  }
  const out = choice(values, 'decoder-output', ['logits', 'probabilities', 'means'] as const);
  if (out) answers.decoderOutput = out;
  const sigma = num(values, 'sigma', LIMITS.sigma);
  if (sigma !== undefined) answers.sigma = sigma;
  if (typeof values.classes === 'string') answers.classes = values.classes.split(',').map((c) => c.trim());
  if (typeof values.name === 'string') answers.name = values.name;
  const client = workerClient(values);
  try {
    const r = await client.request<'describeModel'>({ type: 'describeModel', dir, answers, write: true });
    for (const net of [r.encoder, r.decoder]) {
      if (!net) continue;
      const ports = (ps: NetShape['inputs']) =>
        ps.map((p) => `${p.name} [${(p.dims ?? ['?']).map((d) => d ?? '?').join(', ')}]`).join(', ');
      view.line(`${net === r.encoder ? 'Encoder' : 'Decoder'} ${net.file}: takes ${ports(net.inputs)}, returns ${ports(net.outputs)}`);
    }
    if (!r.written) {
      process.stderr.write(
        `latent-atlas: ${dir} needs a few answers the model files cannot give:\n` +
          r.questions.map((q) => `  - ${q.text}${q.choices ? ` (${q.choices.join(' | ')})` : ''}  → ${DESCRIBE_FLAGS[q.field]}\n`).join(''),
      );
      return EXIT.usage;
    }
    view.line(`Wrote ${r.written}; check it, then e.g. latent-atlas encode ${shellWord(dir)} <images>`);
    return EXIT.ok;
  } finally {
    await client.dispose();
  }
}

const COMMANDS: Record<string, (args: string[], view: ProgressView) => Promise<number>> = {
  train,
  resume: resumeRun,
  encode,
  sample,
  info,
  'demo-data': demoData,
  'export-onnx': exportOnnx,
  export: exportTable,
  neighbours,
  describe,
};

/** A disk that refused a write: reported by the engine, or met by this process itself. */
function isFileSystemFailure(err: unknown): boolean {
  return (err as { code?: unknown })?.code === 'file-system' || diskProblem(err, '') !== undefined;
}

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
      process.stderr.write(`latent-atlas: ${err.message}\n${err.showUsage ? `\n${USAGE}` : ''}`);
      return EXIT.usage;
    }
    const e = err as { code?: string; message?: string };
    const expected = err instanceof EngineError || Boolean(e?.code);
    if (!expected) logDetails(`${new Date().toISOString()} ${(err as Error)?.stack ?? String(err)}`);
    // One line for a person; an unexpected error says where its details are.
    process.stderr.write(`latent-atlas: ${e?.message ?? String(err)}${expected ? '' : ` (details in ${DETAILS_LOG})`}\n`);
    if (isFileSystemFailure(err)) return EXIT.fileSystem;
    if (e?.code === 'no-images') return EXIT.noImages;
    if (e?.code === 'cancelled') return EXIT.cancelled;
    if (e?.code === 'bad-request' || e?.code === 'not-a-run') return EXIT.usage;
    return EXIT.failure;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
