// The CLI commands about models and their points: export-onnx, describe (a manifest for model files
// trained elsewhere), neighbours and export (CSV).

import { basename, dirname, join, resolve } from 'node:path';
import { LIMITS } from './protocol/limits';
import type { DescribeAnswers, DescribeQuestion, NetShape } from './protocol/importedModel';
import type { CsvMap } from './protocol/engine';
import { parseImageSize } from './protocol/imageSize';
import type { ProgressView } from './cli-output';
import { EXIT, UsageError, checkOutputFolder, choice, num, numbers, parse, shellWord, workerClient } from './cli-args';

export async function exportOnnx(args: string[], view: ProgressView): Promise<number> {
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

export async function neighbours(args: string[], view: ProgressView): Promise<number> {
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

export async function exportTable(args: string[], view: ProgressView): Promise<number> {
  const { values, positionals } = parse(args, { csv: { type: 'string' }, map: { type: 'string' } }, 2);
  if (typeof values.csv !== 'string') throw new UsageError('export needs --csv FILE (where the table goes)');
  const map = choice(values, 'map', ['pca', 'umap', 'none'] as const) ?? 'pca';
  const path = resolve(values.csv);
  await checkOutputFolder('--csv', dirname(path));
  const client = workerClient(values);
  try {
    const r = await client.request<'exportCsv'>({
      type: 'exportCsv',
      runDir: resolve(positionals[0]!),
      parts: [{ folder: resolve(positionals[1]!) }],
      path,
      ...(map === 'none' ? {} : { map }),
    });
    view.line(`Wrote ${r.rows} rows to ${r.path}`);
    if (r.map)
      view.line(
        `map_x, map_y: ${MAP_WORDS[r.map.kind]}${r.map.explained ? ` (${r.map.explained.map((e) => `${(100 * e).toFixed(1)}%`).join(' and ')} of the variance)` : ''}`,
      );
    return EXIT.ok;
  } finally {
    await client.dispose();
  }
}

const MAP_WORDS: Record<CsvMap, string> = {
  latent: 'the two latent coordinates (the latent is 2-D)',
  pca: "the posterior means' two principal axes",
  umap: 'a UMAP layout of the posterior means (seed 42)',
};

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

export async function describe(args: string[], view: ProgressView): Promise<number> {
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
