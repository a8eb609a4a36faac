// `npm run demo`: trains a VAE on the built-in demo set with the headless CLI and shows the run.
// Builds dist/ first when it is missing. (The extension's launch replaces this later.)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(repo, 'dist', 'cli.js');
const extra = process.argv.slice(2);
// Ctrl-C reaches the CLI too, which cancels cleanly; this script just waits for it to finish.
process.on('SIGINT', () => undefined);

function run(args, opts = {}) {
  const r = spawnSync(process.execPath, args, { cwd: repo, stdio: 'inherit', ...opts });
  if (r.status !== 0) process.exit(r.status ?? 1);
  return r;
}

if (!existsSync(cli) || !existsSync(join(repo, 'dist', 'worker.js'))) {
  console.log('Building dist/ (node esbuild.mjs)…');
  run(['esbuild.mjs']);
}

// A fresh name per demo run, so the folder is known without parsing output (the terminal keeps
// the live progress bar).
const stamp = new Date().toISOString().replace(/[:T]/g, '-').replace(/\..*$/, '');
const runDir = join(repo, '.vae', `demo-${stamp}`);
const train = spawnSync(process.execPath, [cli, 'train', '--demo', '--out', join(repo, '.vae'), '--name', `demo-${stamp}`, ...extra], {
  cwd: repo,
  stdio: 'inherit',
});
if (!existsSync(join(runDir, 'run.json'))) process.exit(train.status ?? 1);
console.log(`\nThe run landed in ${runDir}\n`);
run([cli, 'info', runDir]);
process.exit(train.status ?? 0);
