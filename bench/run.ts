// `npm run bench`: runs every benchmark side by side in one process run and writes
// docs/BENCHMARKS.md with the machine and the date. Benchmarks measure; tests never time things.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';

interface BenchModule {
  run(): Promise<string>;
}

const sections: [string, () => Promise<BenchModule>][] = [
  ['Training throughput and −ELBO (tfjs backends vs PyTorch)', () => import('./training')],
  ['Conv model and WebGPU (tfjs backends vs PyTorch)', () => import('./conv')],
  ['Data loading', () => import('./encoding')],
  ['Loading an image folder, cold, against PIL', () => import('./load-folder')],
  ['Encoding a folder through the engine worker', () => import('./encode-folder')],
  ['Latent Explorer rendering', () => import('./webview')],
  ['Nearest neighbours in the latent space', () => import('./neighbours')],
  ['Per-image diagnostics and density contours', () => import('./diagnostics')],
  ["The map's film: a frame against an epoch", () => import('./film')],
  ['UMAP of the latent points', () => import('./umap')],
  ['A million images end to end', () => import('./million')],
];

function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  let chromium = 'not installed';
  try {
    chromium = execFileSync('/usr/bin/chromium', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    // reported as not installed
  }
  return [
    `- Date: ${new Date().toISOString()}`,
    `- CPU: ${cpu}, ${os.cpus().length} logical cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, no GPU`,
    `- OS: ${os.type()} ${os.release()}; Node ${process.version}; ${chromium}`,
  ].join('\n');
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const parts: string[] = [
    '# Benchmarks',
    '',
    'Written by `npm run bench` (bench/run.ts); every figure below comes from one run on this machine.',
    '',
    machine(),
    '',
  ];
  for (const [title, load] of sections) {
    if (only.length > 0 && !only.some((o) => title.toLowerCase().includes(o.toLowerCase()))) continue;
    process.stderr.write(`bench: ${title}…\n`);
    const started = Date.now();
    try {
      parts.push((await (await load()).run()).trim(), '');
    } catch (err) {
      parts.push(`## ${title}`, '', `Failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`, '');
    }
    process.stderr.write(`bench: ${title} took ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  }
  mkdirSync('docs', { recursive: true });
  const out = only.length > 0 ? `docs/BENCHMARKS.partial.md` : 'docs/BENCHMARKS.md';
  writeFileSync(out, parts.join('\n'));
  process.stderr.write(`bench: wrote ${out}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
