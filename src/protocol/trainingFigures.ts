// Which training figure a person sees, and how it is written: one rule for the ELBO panel, the
// status bar and the training notification, so they never show two different −ELBOs at once.
//
// While a training runs: the latest stretch of steps (~100 ms of training), labelled "latest".
// Otherwise: the last committed epoch's validation figures, else its training means, labelled so.

import type { CurvePoint, ElboTerms, EpochSummary } from './model';

export type HeadlineKind = 'latest' | 'validation' | 'train';

export interface Headline {
  kind: HeadlineKind;
  terms: ElboTerms;
  /** The epoch the figures are of (null for the latest stretch). */
  epoch: number | null;
  /** What the figures are, in words: "latest", "validation, epoch 3", "training mean, epoch 3". */
  label: string;
}

/** The figures to show: `live` while a training starts or runs. */
export function headline(live: boolean, lastStep: CurvePoint | undefined, lastEpoch: EpochSummary | null | undefined): Headline | null {
  if (lastStep && (live || !lastEpoch)) return { kind: 'latest', terms: lastStep.terms, epoch: null, label: 'latest' };
  if (!lastEpoch) return null;
  if (lastEpoch.validation)
    return { kind: 'validation', terms: lastEpoch.validation, epoch: lastEpoch.epoch, label: `validation, epoch ${lastEpoch.epoch}` };
  return { kind: 'train', terms: lastEpoch.train, epoch: lastEpoch.epoch, label: `training mean, epoch ${lastEpoch.epoch}` };
}

/** Nats per image as written everywhere: 4 significant figures at most ("70.98", "366.9", "1204"). */
export function formatNats(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  return a >= 1000 ? v.toFixed(0) : a >= 100 ? v.toFixed(1) : v.toFixed(2);
}

/** "−ELBO 366.9 nats (latest)". */
export function headlineText(h: Headline): string {
  return `−ELBO ${formatNats(-h.terms.elbo)} nats (${h.label})`;
}

/** The part of a training status that counts epochs. */
export interface EpochCount {
  state: 'starting' | 'running' | 'complete' | 'cancelled' | 'failed';
  /** The epoch in progress while training; afterwards the epochs committed. */
  epoch: number;
  /** The epochs asked for. */
  epochs: number;
}

/** "3 / 10" while training or when complete; "stopped after 2 of 10 epochs" once stopped; "failed after 2 of 10 epochs". */
export function epochCountText(s: EpochCount): string {
  if (s.state !== 'cancelled' && s.state !== 'failed') return `${s.epoch} / ${s.epochs}`;
  const how = s.state === 'cancelled' ? 'stopped' : 'failed';
  return s.epoch > 0 ? `${how} after ${s.epoch} of ${s.epochs} epochs` : `${how} before epoch 1 of ${s.epochs} ended`;
}
