// Two VAEs trained by PyTorch itself and exported with torch.onnx.export, for the tests of imported
// models: scripts/torch-vae/train_export.py, run with Debian's torch. The build takes about half a
// minute, so it is made once per version of the script into test/.cache/torch-vae-<hash>/ (git-ignored)
// and reused while its marker is there.

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

const REPO = join(__dirname, '..', '..');
const SCRIPT = join(REPO, 'scripts', 'torch-vae', 'train_export.py');
/** Debian's Python: the `python3` first on PATH may be another build, without torch. */
const PYTHON = '/usr/bin/python3';
const PACKAGES = 'python3-torch libopenblas0-pthread python3-numpy python3-pil dataset-fashion-mnist';
/** Written last, into the finished folder: a folder without it is not a fixture. */
const MARKER = 'complete.json';
/** The script's exit code for a missing Debian package (an import or the data set). */
const MISSING_PACKAGE = 3;

export interface TorchVaeFixture {
  /** test/.cache/torch-vae-<hash> */
  root: string;
  /** Model folders: encoder.onnx, decoder.onnx, latent-atlas-model.json, reference.json. */
  mlp: string;
  conv: string;
  /** images/<ClassName>/<n>.png: the first 100 Fashion-MNIST test images, n their index there. */
  images: string;
}

let building: Promise<TorchVaeFixture> | undefined;

/** The fixture, built on first use; every caller in this process shares the one build. */
export async function torchVaeFixture(): Promise<TorchVaeFixture> {
  building ??= build().catch((err: unknown) => {
    building = undefined;
    throw err;
  });
  return building;
}

async function build(): Promise<TorchVaeFixture> {
  const hash = createHash('sha256')
    .update(await readFile(SCRIPT))
    .digest('hex')
    .slice(0, 12);
  const root = join(REPO, 'test', '.cache', `torch-vae-${hash}`);
  const fixture = { root, mlp: join(root, 'mlp'), conv: join(root, 'conv'), images: join(root, 'images') };
  if (existsSync(join(root, MARKER))) return fixture;

  // Built aside and renamed into place, so another test process never sees half a fixture.
  const partial = `${root}.partial-${process.pid}`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  const started = Date.now();
  let log: string;
  try {
    log = await runScript(partial);
  } catch (err) {
    await rm(partial, { recursive: true, force: true });
    throw err;
  }
  const marker = { script: relative(REPO, SCRIPT), hash, seconds: (Date.now() - started) / 1000, log: log.trim().split('\n') };
  await writeFile(join(partial, MARKER), JSON.stringify(marker, null, 2) + '\n');
  await moveIntoPlace(partial, root);
  return fixture;
}

function runScript(out: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [SCRIPT, out], { timeout: 10 * 60_000, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const script = relative(REPO, SCRIPT);
      const install = `Run scripts/prepare-test-env.sh as root, or apt-get install ${PACKAGES}.`;
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new Error(`${PYTHON} not found: the PyTorch test models need Debian's python3 with ${PACKAGES}. ${install}`));
      } else if (err.code === MISSING_PACKAGE) {
        reject(new Error(`Cannot build the PyTorch test models (${script}): ${stderr.trim()} ${install}`));
      } else {
        const why = err.killed ? `was stopped after ${err.signal ?? 'a signal'} (timeout 10 min)` : `exited with code ${err.code}`;
        reject(new Error(`${PYTHON} ${script} ${why}:\n${stderr.trim().split('\n').slice(-20).join('\n')}`));
      }
    });
  });
}

async function moveIntoPlace(partial: string, root: string): Promise<void> {
  try {
    await rename(partial, root);
  } catch (err) {
    // Another process finished the same build first: keep its copy. A folder without the marker
    // (one left by hand) is replaced.
    if (existsSync(join(root, MARKER))) {
      await rm(partial, { recursive: true, force: true });
      return;
    }
    if ((err as NodeJS.ErrnoException).code !== 'ENOTEMPTY' && (err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    await rm(root, { recursive: true, force: true });
    await rename(partial, root);
  }
}
