// Turns Debian's Fashion-MNIST (dataset-fashion-mnist, IDX files) into PNG folders:
//   node --import tsx scripts/fashion-mnist-to-png.ts <outDir> [--train N] [--test N]
// writes <outDir>/train/<class>/00001.png … and <outDir>/test/<class>/… (all images by default).
import { join, resolve } from 'node:path';
import { writeFashionMnistPngs } from '../src/engine/data/fashionMnist';

const USAGE = 'Usage: node --import tsx scripts/fashion-mnist-to-png.ts <outDir> [--train N] [--test N]';

function parseArgs(argv: string[]): { outDir: string; train: number; test: number } {
  let outDir: string | undefined;
  let train = Infinity;
  let test = Infinity;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--train' || arg === '--test') {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 0)
        throw new Error(`${arg} needs a whole number of images (0 or more), got ${argv[i] ?? 'nothing'}.\n${USAGE}`);
      if (arg === '--train') train = n;
      else test = n;
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else if (arg.startsWith('-') || outDir !== undefined) {
      throw new Error(`Unexpected argument ${arg}.\n${USAGE}`);
    } else {
      outDir = arg;
    }
  }
  if (outDir === undefined) throw new Error(`Missing <outDir>.\n${USAGE}`);
  return { outDir: resolve(outDir), train, test };
}

async function main(): Promise<void> {
  const { outDir, train, test } = parseArgs(process.argv.slice(2));
  for (const [split, n] of [
    ['train', train],
    ['test', test],
  ] as const) {
    if (n === 0) continue;
    const dir = join(outDir, split);
    const count = await writeFashionMnistPngs(dir, split, n, (done, total) => {
      if (process.stderr.isTTY) process.stderr.write(`\r${split}: ${done}/${total}`);
    });
    if (process.stderr.isTTY) process.stderr.write('\n');
    process.stdout.write(`${split}: ${count} PNG files in ${dir}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
