// Faults of the run store, each reproduced: racing trainers and training.lock, a history line that
// parses but is incomplete, run names that would leave the run folder's parent, a checkpoint folder
// that is missing or damaged, and a sample PNG whose write fails part-way.

import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import type { EpochSummary, RunManifest } from '../../src/protocol/model';
import { setTf } from '../../src/engine/tf';
import {
  acquireTrainingLock,
  appendHistory,
  createRun,
  loadCheckpoint,
  normaliseHistory,
  readHistory,
  readManifest,
  releaseTrainingLock,
  runFolder,
  saveCheckpoint,
  trainingOwner,
} from '../../src/engine/runStore/runStore';
import { writePngs } from '../../src/engine/data/png';
import { REPO, TSX_IMPORT, tempDir } from './worker-fixtures';
import { EngineError } from '../../src/protocol/errors';
import { adamState, summary, testManifest, tinyModels } from './runStore-fixtures';

/** The faults start from finished runs. */
const manifest = (name: string, over: Partial<RunManifest> = {}) => testManifest(name, { state: 'complete', ...over });

let root: string;

before(async () => {
  await tf.setBackend('cpu');
  setTf(tf);
  root = await tempDir('faults');
});
after(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

/** A run with committed checkpoints (and history lines) for epochs 1..epochs; the last two are kept. */
async function trainedRun(name: string, epochs: number): Promise<string> {
  const runDir = join(root, name);
  await createRun(runDir, manifest(name));
  const { encoder, decoder } = tinyModels();
  const optimizer = await adamState(encoder);
  let m = manifest(name);
  for (let e = 1; e <= epochs; e++) {
    await appendHistory(runDir, summary(e));
    m = await saveCheckpoint(runDir, { encoder, decoder }, optimizer, { ...m, epochsCompleted: e, step: e * 5, last: summary(e) });
  }
  return runDir;
}

/** The pid of a process that has exited (so its lock is stale). */
const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!;

function runTsx(args: string[], opts: { ulimitKb?: number } = {}): ChildProcess {
  const node = [process.execPath, '--import', TSX_IMPORT, ...args];
  return opts.ulimitKb
    ? spawn('bash', ['-c', `ulimit -f ${opts.ulimitKb} && exec "$@"`, 'bash', ...node], { stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn(node[0]!, node.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Resolves with the child's stdout once `done(stdout)` holds (or rejects when it exits first). */
function output(child: ChildProcess, done: (out: string) => boolean): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (done(out)) resolvePromise(out);
    });
    child.on('close', (code) => (done(out) ? resolvePromise(out) : reject(new Error(`child exited ${code}: ${out}\n${err}`))));
  });
}

// A process that waits for the go file, races for the lock, releases it if it lost, says which,
// and keeps a won lock alive until its stdin closes.
const LOCK_CHILD = `
import { existsSync } from 'node:fs';
import { acquireTrainingLock, releaseTrainingLock } from ${JSON.stringify(join(REPO, 'src', 'engine', 'runStore', 'runStore.ts'))};
const [runDir, go] = process.argv.slice(2);
void (async () => {
  process.stdout.write('ready\\n');
  while (!existsSync(go)) await new Promise((r) => setTimeout(r, 1));
  let won = false;
  try {
    await acquireTrainingLock(runDir);
    won = true;
  } catch {
    await releaseTrainingLock(runDir);
  }
  process.stdout.write(won ? 'won\\n' : 'lost\\n');
  process.stdin.on('data', () => undefined);
  process.stdin.on('end', () => process.exit(0));
})();
`;

/** N processes race for the lock of runDir; returns the pids of winners and losers, all still alive. */
async function race(runDir: string, n: number): Promise<{ winners: number[]; losers: number[]; children: ChildProcess[] }> {
  const script = join(root, 'lock-child.ts');
  await fs.writeFile(script, LOCK_CHILD);
  const go = join(runDir, `go-${Date.now()}`);
  const children = Array.from({ length: n }, () => runTsx([script, runDir, go]));
  const outs = children.map((c) => output(c, (o) => /won|lost/.test(o)));
  // Every child is loaded and polling before the go file appears.
  await Promise.all(children.map((c) => output(c, (o) => o.includes('ready'))));
  await fs.writeFile(go, '');
  const results = await Promise.all(outs);
  await fs.rm(go);
  const pid = (i: number) => children[i]!.pid!;
  return {
    winners: results.flatMap((o, i) => (o.includes('won') ? [pid(i)] : [])),
    losers: results.flatMap((o, i) => (o.includes('lost') ? [pid(i)] : [])),
    children,
  };
}

async function endAll(children: ChildProcess[]): Promise<void> {
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : (c.on('close', r), c.stdin!.end())))));
}

describe('training.lock', () => {
  test("concurrent acquisitions in one process: exactly one wins, on a free run and on a dead trainer's lock", async () => {
    const runDir = join(root, 'lock-inproc');
    await createRun(runDir, manifest('lock-inproc'));
    const lockFile = join(runDir, 'training.lock');
    for (const stale of [false, true]) {
      if (stale) await fs.writeFile(lockFile, JSON.stringify({ pid: deadPid(), host: hostname(), since: 'earlier' }));
      const outcomes = await Promise.allSettled(Array.from({ length: 8 }, () => acquireTrainingLock(runDir)));
      const won = outcomes.filter((o) => o.status === 'fulfilled').length;
      assert.equal(won, 1, `${stale ? 'stale lock' : 'free run'}: ${won} of 8 concurrent acquisitions succeeded`);
      for (const o of outcomes)
        if (o.status === 'rejected') assert.match((o.reason as Error).message, /being trained by process|right now/);
      assert.equal(JSON.parse(await fs.readFile(lockFile, 'utf8')).pid, process.pid);
      await releaseTrainingLock(runDir);
      await assert.rejects(fs.stat(lockFile), { code: 'ENOENT' });
    }
    assert.deepEqual(
      (await fs.readdir(runDir)).filter((f) => f.includes('lock')),
      [],
      'no takeover markers left',
    );
  });

  test("a release by a process that does not hold the lock leaves the holder's lock in place", async () => {
    const runDir = join(root, 'lock-foreign');
    await createRun(runDir, manifest('lock-foreign'));
    const lockFile = join(runDir, 'training.lock');
    const theirs = JSON.stringify({ pid: process.ppid, host: hostname(), since: 'earlier', token: 'theirs' });
    await fs.writeFile(lockFile, theirs);
    await assert.rejects(acquireTrainingLock(runDir), /being trained by process/);
    await releaseTrainingLock(runDir);
    assert.equal(await fs.readFile(lockFile, 'utf8'), theirs);
  });

  test("processes racing for one run: exactly one wins; the losers' releases leave its lock; a stale lock is taken over by one", async () => {
    const runDir = join(root, 'lock-race');
    await createRun(runDir, manifest('lock-race'));
    const lockFile = join(runDir, 'training.lock');
    for (const stale of [false, true]) {
      if (stale) await fs.writeFile(lockFile, JSON.stringify({ pid: deadPid(), host: hostname(), since: 'earlier' }));
      const { winners, losers, children } = await race(runDir, 3);
      try {
        assert.equal(winners.length, 1, `${stale ? 'stale lock' : 'free run'}: winners ${winners.join(', ') || 'none'}`);
        assert.equal(losers.length, 2);
        // The losers have called releaseTrainingLock by now: the winner's lock must still be there.
        const lock = JSON.parse(await fs.readFile(lockFile, 'utf8'));
        assert.equal(lock.pid, winners[0]);
        assert.equal((await trainingOwner(runDir))?.pid, winners[0]);
      } finally {
        await endAll(children);
      }
      // The winner has exited without releasing: its lock is stale for the next round.
    }
  });
});

describe('history.jsonl', () => {
  test('a line that is valid JSON but not a whole epoch summary is skipped with a warning, never in place of the good one', async () => {
    const runDir = join(root, 'history-bad');
    await createRun(runDir, manifest('history-bad', { epochsCompleted: 2 }));
    const m = manifest('history-bad', { epochsCompleted: 2, checkpoint: null });
    await appendHistory(runDir, summary(1));
    await appendHistory(runDir, summary(2));
    await fs.appendFile(join(runDir, 'history.jsonl'), '{"epoch":2}\n');
    const warnings: string[] = [];
    const history = await readHistory(runDir, m, (w) => warnings.push(w));
    assert.deepEqual(
      history.map((s) => s.epoch),
      [1, 2],
    );
    assert.equal(history[1]!.train.elbo, summary(2).train.elbo, 'epoch 2 is the real record');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /history\.jsonl, line 3, is not a complete epoch summary/);

    // The rewrite before a resume keeps the good epoch-2 record and drops the bad line.
    await normaliseHistory(runDir, m);
    const lines = (await fs.readFile(join(runDir, 'history.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as EpochSummary);
    assert.deepEqual(
      lines.map((s) => s.epoch),
      [1, 2],
    );
    assert.equal(lines[1]!.train.elbo, summary(2).train.elbo);
    assert.equal(lines[1]!.klPerDim.length, 2);
  });

  test('info on such a run prints the report and a warning, no TypeError', async () => {
    const runDir = join(root, 'history-info');
    await createRun(runDir, manifest('history-info', { epochsCompleted: 2 }));
    await appendHistory(runDir, summary(1));
    await appendHistory(runDir, summary(2));
    await fs.appendFile(join(runDir, 'history.jsonl'), '{"epoch":2}\n');
    const child = runTsx([join(REPO, 'src', 'cli.ts'), 'info', runDir]);
    child.stdin!.end();
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const stdout = await output(child, () => child.exitCode !== null);
    assert.equal(child.exitCode, 0, stderr);
    assert.doesNotMatch(stderr, /TypeError|\bat /);
    assert.match(stderr, /warning: .*line 3, is not a complete epoch summary/);
    assert.match(stdout, /^2\s+\d+\s+[\d.]+/m, 'epoch 2 is in the history table');
  });
});

describe('run names', () => {
  test('names that would leave the parent folder are refused, saying what is allowed', async () => {
    const parent = join(root, 'names');
    for (const bad of [
      '../../x',
      '..',
      '.',
      'a/b',
      'a\\b',
      '.hidden',
      'a..b',
      'x:y',
      'what?',
      'con',
      'LPT1.txt',
      'trailing.',
      ' ',
      '',
      'tab\tname',
    ]) {
      assert.throws(
        () => runFolder(parent, bad),
        (err: EngineError) => {
          assert.ok(err instanceof EngineError, `${JSON.stringify(bad)} → ${String(err)}`);
          assert.equal(err.code, 'bad-request');
          assert.ok(err.message.includes(`"${bad}"`), err.message);
          assert.match(err.message, /letters, digits, spaces, "-", "_" and "\." are fine/);
          return true;
        },
        JSON.stringify(bad),
      );
    }
    for (const good of ['shapes-2025-01-31', 'My run 2', 'résumé_v1.2', 'a.b']) assert.equal(runFolder(parent, good), join(parent, good));
    // createRun checks the manifest's name too (the extension sends its own name).
    await assert.rejects(createRun(join(parent, 'x'), manifest('../../x')), (err: EngineError) => err.code === 'bad-request');
    await assert.rejects(fs.stat(parent), { code: 'ENOENT' }, 'nothing written');
  });

  test('CLI: train --out DIR --name ../../x exits 2 and writes nothing outside DIR', async () => {
    const out = join(root, 'cli', 'a', 'runs');
    const child = runTsx([
      join(REPO, 'src', 'cli.ts'),
      'train',
      '--demo',
      '--out',
      out,
      '--name',
      '../../x',
      '--epochs',
      '1',
      '--size',
      '8x8',
      '--backend',
      'cpu',
    ]);
    child.stdin!.end();
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    await output(child, () => child.exitCode !== null);
    assert.equal(child.exitCode, 2, stderr);
    assert.match(stderr, /The run name "\.\.\/\.\.\/x" cannot be used/);
    await assert.rejects(fs.stat(resolve(out, '../../x')), { code: 'ENOENT' });
  });
});

describe('checkpoints', () => {
  test('run.json naming a missing checkpoint folder falls back to the previous checkpoint with a warning', async () => {
    const runDir = await trainedRun('fallback', 3);
    assert.deepEqual((await fs.readdir(join(runDir, 'checkpoints'))).sort(), ['epoch-0002', 'epoch-0003']);
    await fs.rm(join(runDir, 'checkpoints', 'epoch-0003'), { recursive: true });
    const warnings: string[] = [];
    const m = await readManifest(runDir, (w) => warnings.push(w));
    assert.equal(m.checkpoint, 'checkpoints/epoch-0002');
    assert.equal(m.epochsCompleted, 2);
    assert.equal(m.step, summary(2).step);
    assert.equal(m.last?.epoch, 2);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /epoch-0003 .* is missing; using the previous one, checkpoints\/epoch-0002 \(epoch 2\)/);
    const loaded = await loadCheckpoint(runDir, m, true);
    assert.equal(loaded.encoder.outputs.length, 2);
    assert.ok(loaded.optimizer && loaded.optimizer.length > 0);
    assert.deepEqual(
      (await readHistory(runDir, m)).map((s) => s.epoch),
      [1, 2],
    );

    // With no earlier checkpoint left: a plain-words error, not a stack of tfjs internals.
    await fs.rm(join(runDir, 'checkpoints', 'epoch-0002'), { recursive: true });
    const none = await readManifest(runDir);
    assert.equal(none.checkpoint, 'checkpoints/epoch-0003');
    await assert.rejects(loadCheckpoint(runDir, none, false), (err: EngineError) => {
      assert.equal(err.code, 'corrupt-run');
      assert.match(err.message, /epoch-0003 named in .*run\.json is missing and no earlier checkpoint is left/);
      assert.match(err.message, /Train the run again/);
      return true;
    });
  });

  test('a truncated weights.bin or optimizer.bin is named in the error, with what to do', async () => {
    for (const file of [join('encoder', 'weights.bin'), join('optimizer', 'optimizer.bin')]) {
      const runDir = await trainedRun(`damaged-${file.split('/')[0]}`, 2);
      const path = join(runDir, 'checkpoints', 'epoch-0002', file);
      const { size } = await fs.stat(path);
      await fs.truncate(path, Math.floor(size / 2) + 1);
      await assert.rejects(loadCheckpoint(runDir, await readManifest(runDir), true), (err: EngineError) => {
        assert.ok(err instanceof EngineError, String(err));
        assert.equal(err.code, 'corrupt-run');
        assert.ok(err.message.includes(`${path} is damaged`), err.message);
        assert.ok(
          err.message.includes(
            `Remove the folder ${join(runDir, 'checkpoints', 'epoch-0002')} to go back to the previous checkpoint (checkpoints/epoch-0001)`,
          ),
          err.message,
        );
        return true;
      });
      // Doing what it says works: the run loads at epoch 1.
      await fs.rm(join(runDir, 'checkpoints', 'epoch-0002'), { recursive: true });
      const m = await readManifest(runDir);
      assert.equal(m.epochsCompleted, 1);
      await loadCheckpoint(runDir, m, true);
    }
  });
});

// Writes one 256×256 noise image (a PNG of about 200 KB) with writePngs and reports the outcome.
const PNG_CHILD = `
import { randomFillSync } from 'node:crypto';
import { writePngs } from ${JSON.stringify(join(REPO, 'src', 'engine', 'data', 'png.ts'))};
const pixels = randomFillSync(new Uint8Array(256 * 256 * 3));
writePngs({ count: 1, width: 256, height: 256, channels: 3, pixels }, process.argv[2]!, 'sample').then(
  (files) => process.stdout.write(JSON.stringify({ files }) + '\\n'),
  (err) => process.stdout.write(JSON.stringify({ code: err.code, message: err.message }) + '\\n'),
);
`;

describe('sample PNGs', () => {
  test(
    'a write that fails part-way (a file size limit, as on a full disk) leaves no partial sample file',
    // The full disk is simulated with `ulimit -f` (EFBIG part-way through the write), which needs a
    // POSIX shell; on Windows there is no way to cap one process's writes, so the test cannot run there.
    { skip: process.platform === 'win32' && 'needs `ulimit -f` (POSIX) to make a write fail part-way' },
    async () => {
      const dir = join(root, 'samples-full');
      await fs.mkdir(dir);
      const script = join(root, 'png-child.ts');
      await fs.writeFile(script, PNG_CHILD);
      // Files may grow to 64 KB in the child: the PNG write fails with EFBIG after 64 KB, like ENOSPC.
      const child = runTsx([script, dir], { ulimitKb: 64 });
      child.stdin!.end();
      const out = JSON.parse((await output(child, (o) => o.includes('\n'))).trim()) as { code?: string; files?: string[] };
      assert.equal(out.code, 'EFBIG', `the write was expected to fail: ${JSON.stringify(out)}`);
      assert.deepEqual(await fs.readdir(dir), [], 'no sample-001.png (nor a temporary file) is left');
    },
  );

  test('samples are never overwritten: a second batch takes the next names', async () => {
    const dir = join(root, 'samples-twice');
    const batch = { count: 2, width: 4, height: 4, channels: 1 as const, pixels: new Uint8Array(32).fill(200) };
    assert.deepEqual(
      (await writePngs(batch, dir, 'sample')).map((p) => p.slice(dir.length + 1)),
      ['sample-001.png', 'sample-002.png'],
    );
    assert.deepEqual(
      (await writePngs(batch, dir, 'sample')).map((p) => p.slice(dir.length + 1)),
      ['sample-003.png', 'sample-004.png'],
    );
    assert.deepEqual((await fs.readdir(dir)).sort(), ['sample-001.png', 'sample-002.png', 'sample-003.png', 'sample-004.png']);
  });
});
