// What every command of the headless CLI shares: exit codes, argument parsing and checks, the
// engine client it talks through, and where details a person need not read are kept.

import { appendFileSync, constants, mkdirSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Limit } from './protocol/limits';
import type { BackendChoice } from './protocol/model';
import { EngineClient } from './client/engineClient';
import { EngineError } from './protocol/errors';

export const EXIT = { ok: 0, failure: 1, usage: 2, noImages: 3, fileSystem: 4, cancelled: 130 } as const;

/** A wrong argument; `showUsage` false when the message alone says what to change. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly showUsage = true,
  ) {
    super(message);
  }
}

export type Values = Record<string, string | boolean | undefined>;

export function parse(args: string[], options: ParseArgsConfig['options'], positionals: number): { values: Values; positionals: string[] } {
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
export function num(values: Values, key: string, limit: Limit): number | undefined {
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

export function choice<T extends string>(values: Values, key: string, allowed: readonly T[]): T | undefined {
  const raw = values[key];
  if (raw === undefined) return undefined;
  if (!allowed.includes(raw as T)) throw new UsageError(`--${key} must be one of ${allowed.join(', ')}, got "${String(raw)}"`);
  return raw as T;
}

export const BACKENDS = ['auto', 'tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'] as const;

export function workerClient(values: Values): EngineClient {
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
export const DETAILS_LOG = join(tmpdir(), 'latent-atlas', `cli-${process.pid}.log`);

export function logDetails(text: string): void {
  try {
    mkdirSync(dirname(DETAILS_LOG), { recursive: true });
    appendFileSync(DETAILS_LOG, text.endsWith('\n') ? text : `${text}\n`);
  } catch {
    // a log that cannot be written must not hide the error being reported
  }
}

/** `s` as one word for a shell command a person may copy. */
export function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Refuses, before any work, an output folder that cannot be one (a file on its path) or that the
 * disk will not let us write in. Missing folders are fine: they are created.
 */
export async function checkOutputFolder(what: string, dir: string): Promise<void> {
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

/** Comma-separated numbers of a flag, or undefined. */
export function numbers(values: Values, key: string): number[] | undefined {
  const raw = values[key];
  if (raw === undefined) return undefined;
  const list = String(raw).split(',').map(Number);
  if (list.length === 0 || list.some((n) => !Number.isFinite(n)))
    throw new UsageError(`--${key} takes comma-separated numbers, got "${String(raw)}"`);
  return list;
}
