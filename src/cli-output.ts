// What the headless CLI prints: a one-line progress bar on a terminal, plain lines when piped,
// every skipped file on stderr, and the `info` report.

import type { EngineEvent, ProgressEvent, RunInfo } from './protocol/engine';
import type { ElboTerms, EpochSummary } from './protocol/model';
import { adapterText } from './protocol/backendText';

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

const fmt = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : String(x));

function termsText(t: ElboTerms): string {
  return `−ELBO ${fmt(-t.elbo)} (recon ${fmt(t.reconstruction)}, KL ${fmt(t.kl)})`;
}

export function epochLine(s: EpochSummary, epochs?: number): string {
  const val = s.validation ? `, validation −ELBO ${fmt(-s.validation.elbo)}` : '';
  const logPx = s.logPx ? `, log p(x) ≥ ${fmt(s.logPx.value)} (k=${s.logPx.k})` : '';
  return (
    `epoch ${s.epoch}${epochs ? `/${epochs}` : ''}: train ${termsText(s.train)}${val}${logPx}, ` +
    `active units ${s.activeUnits}/${s.klPerDim.length}, ${Math.round(s.imagesPerSecond)} images/s, ${fmt(s.seconds, 1)}s`
  );
}

/** Renders engine events for a person: a live bar on a TTY, one line per epoch/status otherwise. */
export class ProgressView {
  private barShown = false;
  private lastStatus = '';
  private lastStatusAt = 0;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly err: NodeJS.WriteStream,
    private readonly tty = Boolean(out.isTTY),
  ) {}

  readonly onEvent = (e: EngineEvent): void => {
    switch (e.type) {
      case 'progress':
        if (this.tty) this.bar(e);
        break;
      case 'epoch':
        this.line(epochLine(e.summary));
        break;
      case 'status':
        this.status(e.message, e.done, e.total);
        break;
      case 'warning':
        this.clearBar();
        this.err.write(e.file ? `skipped ${e.file}: ${e.reason}\n` : `warning: ${e.reason}\n`);
        break;
      case 'layout':
        // A projection converging: for the map, nothing to print.
        break;
      case 'mapSubset':
      case 'mapFrame':
        // The map's film, stored in the run folder: for a terminal, nothing to print.
        break;
      case 'encodedPoints':
        // The points before their ELBO terms, for a map; the reply prints the encoding.
        break;
    }
  };

  line(text: string): void {
    this.clearBar();
    this.out.write(text + '\n');
  }

  private status(message: string, done?: number, total?: number): void {
    const counted = total ? `${message} (${done ?? 0}/${total})` : message;
    if (this.tty) {
      this.clearBar();
      this.out.write(`\r${counted.slice(0, this.width())}\x1b[K`);
      this.barShown = true;
      return;
    }
    // Piped: a line when the message changes, and counted progress at most every 2 seconds.
    const now = Date.now();
    if (message !== this.lastStatus || done === total || now - this.lastStatusAt > 2000) {
      this.out.write(counted + '\n');
      this.lastStatus = message;
      this.lastStatusAt = now;
    }
  }

  private bar(p: ProgressEvent): void {
    const width = 20;
    const frac = p.stepsPerEpoch > 0 ? p.stepInEpoch / p.stepsPerEpoch : 0;
    const filled = Math.round(frac * width);
    const text =
      `epoch ${p.epoch}/${p.epochs} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ` +
      `step ${p.stepInEpoch}/${p.stepsPerEpoch}  −ELBO ${fmt(-p.epochTerms.elbo)}  recon ${fmt(p.epochTerms.reconstruction)}  ` +
      `KL ${fmt(p.epochTerms.kl)}  ${Math.round(p.imagesPerSecond)} img/s  ETA ${formatSeconds(p.eta)}`;
    this.out.write(`\r${text.slice(0, this.width())}\x1b[K`);
    this.barShown = true;
  }

  /** Usable line width: one less than the terminal's, so the cursor never wraps. */
  private width(): number {
    return Math.max(40, (this.out.columns || 120) - 1);
  }

  clearBar(): void {
    if (this.barShown) this.out.write('\r\x1b[K');
    this.barShown = false;
  }
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** Who trains a run that says 'training': a live process, or nobody (then how to continue it). */
function trainingNote(info: RunInfo): string {
  const t = info.training;
  if (!t) return '';
  return t.state === 'running'
    ? ` (by process ${t.pid} on ${t.host})`
    : ` (interrupted: nothing trains it now; continue with "latent-atlas resume ${info.runDir}")`;
}

/** The `info` report: the manifest in a few lines, the last figures and the history table. */
export function infoText(info: RunInfo): string {
  const m = info.manifest;
  if (m.imported) return importedInfoText(info);
  const pre = m.preprocessing;
  const source = m.dataset.source.kind === 'demo' ? 'built-in demo set' : m.dataset.source.path;
  const arch = m.model.architecture === 'mlp' ? `mlp [${m.model.hiddenUnits.join(', ')}]` : `conv [${m.model.convFilters.join(', ')}]`;
  const lik = m.model.likelihood === 'gaussian' ? `gaussian σ=${m.model.sigma}` : 'bernoulli';
  const lines = [
    `Run         ${m.name}`,
    `Folder      ${info.runDir}`,
    `State       ${m.state}${trainingNote(info)}, ${m.epochsCompleted}/${m.training.epochs} epochs, ${m.step} steps, backend ${m.adapter ? `${m.backend} on ${adapterText(m.adapter)}` : m.backend}`,
    `Model       ${arch}, latent ${m.model.latentSize}, ${lik}, β=${m.model.beta}${m.model.conditional ? ', conditional' : ''}`,
    `Training    batch ${m.training.batchSize}, learning rate ${m.training.learningRate}, validation ${m.training.validationSplit}, seed ${m.training.seed}`,
    `Data        ${source}: ${m.dataset.count} images (${m.dataset.skipped} skipped), ${pre.width}×${pre.height}×${pre.channels} (${pre.fit})`,
    `Labels      ${m.labels.length ? m.labels.join(', ') : '(none)'}`,
    `Checkpoint  ${m.checkpoint ?? '(none yet)'}`,
    `Written by  Latent Atlas ${m.codeVersion}, TensorFlow.js ${m.tfjsVersion}; updated ${m.updatedAt}`,
  ];
  if (m.last) lines.push(`Last        ${epochLine(m.last)}`);
  lines.push(`Encodings   ${info.encodings.length ? info.encodings.join('\n            ') : '(none)'}`);
  if (info.history.length) {
    lines.push('', 'epoch   step  train −ELBO    recon       KL  val −ELBO  active   images/s');
    for (const s of info.history) {
      lines.push(
        [
          pad(String(s.epoch), 5),
          String(s.step).padStart(6),
          fmt(-s.train.elbo).padStart(12),
          fmt(s.train.reconstruction).padStart(8),
          fmt(s.train.kl).padStart(8),
          (s.validation ? fmt(-s.validation.elbo) : '-').padStart(10),
          String(s.activeUnits).padStart(7),
          String(Math.round(s.imagesPerSecond)).padStart(10),
        ].join(' '),
      );
    }
  }
  return lines.join('\n') + '\n';
}

/** The `info` report of a model trained elsewhere: what its manifest says. */
function importedInfoText(info: RunInfo): string {
  const m = info.manifest;
  const im = m.imported!.manifest;
  const input = im.input;
  const norm = !input.normalize
    ? 'x = p (pixels in [0, 1])'
    : 'range' in input.normalize
      ? `x in [${input.normalize.range.join(', ')}]`
      : `x = (p − [${input.normalize.mean.join(', ')}]) / [${input.normalize.std.join(', ')}]`;
  const enc = im.encoderOutputs;
  const outputs =
    enc.kind === 'mu-logvar'
      ? `μ ${enc.mu}, log σ² ${enc.logVar}`
      : enc.kind === 'concatenated'
        ? `[μ, log σ²] ${enc.name}`
        : `μ ${enc.name} (autoencoder)`;
  const dec = im.decoderOutput;
  const lines = [
    `Model       ${m.name} (trained elsewhere, ${m.imported!.format === 'onnx' ? 'ONNX' : 'tfjs'})`,
    `Folder      ${info.runDir}`,
    `Files       encoder ${im.encoder}, decoder ${im.decoder}`,
    `Input       ${input.width}×${input.height}×${input.channels}, ${input.layout}${input.flatten ? ' flattened' : ''}, ${norm}`,
    `Latent      ${im.latentSize}; encoder returns ${outputs}`,
    `Decoder     ${dec.kind}${dec.sigma !== undefined ? `, σ=${dec.sigma}` : ''}${im.condition ? ', conditional' : ''}`,
    `Labels      ${m.labels.length ? m.labels.join(', ') : '(none)'}`,
  ];
  if (im.source) lines.push(`Source      ${im.source}`);
  lines.push(`Encodings   ${info.encodings.length ? info.encodings.join('\n            ') : '(none)'}`);
  return lines.join('\n') + '\n';
}
