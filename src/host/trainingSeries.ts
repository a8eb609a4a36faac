// The live ELBO series the host keeps for the Latent Explorer: every epoch summary, the per-step
// points (thinned when long, so a replay stays small) and the current status. Pure; the panel
// replays it as a SeriesMessage when the webview says ready or becomes visible again.

import type { EpochEvent, ProgressEvent } from '../protocol/engine';
import type { EpochSummary } from '../protocol/model';
import { headline, type Headline } from '../protocol/trainingFigures';
import type { SeriesMessage, StepPoint, TrainingState, TrainingStatus } from '../protocol/webview';

/** The per-step points that a run's history keeps (each epoch summary's curve). */
function stepsOf(history: EpochSummary[]): StepPoint[] {
  return history.flatMap((e) => (e.curve ?? []).map((p) => ({ ...p, epoch: e.epoch })));
}

export class TrainingSeries {
  private steps: StepPoint[] = [];
  private epochs: EpochSummary[] = [];
  private current: TrainingStatus | null = null;

  constructor(private readonly maxSteps = 4000) {}

  get status(): TrainingStatus | null {
    return this.current;
  }

  /** A new run starts (or a run resumes after `history`): the series restarts from that history. */
  start(runName: string, epochs: number, history: EpochSummary[] = []): TrainingStatus {
    this.steps = stepsOf(history);
    this.epochs = [...history];
    this.current = { state: 'starting', runName, epoch: history.length, epochs, step: 0, stepsPerEpoch: 0, imagesPerSecond: 0, eta: null };
    return this.current;
  }

  /**
   * Shows a run's history (loading a model, a reload) without a live status: `requestedEpochs` is
   * the run's configured total, so a stopped run reads "stopped after N of M" as it did when stopped.
   */
  showHistory(runName: string, history: EpochSummary[], state: TrainingState = 'complete', requestedEpochs?: number): void {
    this.steps = stepsOf(history);
    if (this.steps.length > this.maxSteps) this.thin();
    this.epochs = [...history];
    const last = history.at(-1);
    this.current = last
      ? {
          state,
          runName,
          epoch: last.epoch,
          epochs: Math.max(last.epoch, requestedEpochs ?? last.epoch),
          step: last.step,
          stepsPerEpoch: 0,
          imagesPerSecond: last.imagesPerSecond,
          eta: null,
        }
      : null;
  }

  progress(e: ProgressEvent): { point: StepPoint; status: TrainingStatus } {
    const point: StepPoint = { step: e.step, epoch: e.epoch, terms: e.terms, imagesPerSecond: e.imagesPerSecond };
    // A resumed run replays its history's curve first; a step at or before its end starts over there.
    if (this.steps.length && this.steps[this.steps.length - 1].step >= point.step)
      this.steps = this.steps.filter((p) => p.step < point.step);
    this.steps.push(point);
    if (this.steps.length > this.maxSteps) this.thin();
    this.current = {
      ...(this.current ?? this.start('', e.epochs)),
      state: 'running',
      epoch: e.epoch,
      epochs: e.epochs,
      step: e.step,
      stepsPerEpoch: e.stepsPerEpoch,
      imagesPerSecond: e.imagesPerSecond,
      eta: e.eta,
    };
    return { point, status: this.current };
  }

  epoch(e: EpochEvent): { summary: EpochSummary; status: TrainingStatus } {
    this.epochs = this.epochs.filter((s) => s.epoch !== e.summary.epoch);
    this.epochs.push(e.summary);
    this.current = { ...(this.current ?? this.start('', e.summary.epoch)), epoch: e.summary.epoch, step: e.summary.step };
    return { summary: e.summary, status: this.current };
  }

  finish(state: Exclude<TrainingState, 'starting' | 'running'>, message?: string): TrainingStatus | null {
    if (!this.current) return null;
    // A transient line ("Stopping at the next step…") does not outlive the training.
    const { message: _transient, ...rest } = this.current;
    const last = this.epochs.at(-1);
    // What the run keeps is its last committed epoch: the counters say so, as its history will
    // after a reload, and a stopped run's steps past that checkpoint are dropped with it.
    const kept = last ? { epoch: last.epoch, step: last.step } : { epoch: 0 };
    if (state === 'cancelled' && last) this.steps = this.steps.filter((p) => p.step <= last.step);
    this.current = { ...rest, ...kept, state, eta: null, ...(message ? { message } : {}) };
    return this.current;
  }

  message(text: string): TrainingStatus | null {
    if (!this.current) return null;
    this.current = { ...this.current, message: text };
    return this.current;
  }

  /** The −ELBO (and its terms) a person should see now, named: see `headline` in protocol/trainingFigures. */
  headline(): Headline | null {
    const live = this.current?.state === 'running' || this.current?.state === 'starting';
    return headline(live, this.steps.at(-1), this.epochs.at(-1));
  }

  replay(): SeriesMessage {
    return { type: 'series', status: this.current, steps: [...this.steps], epochs: [...this.epochs] };
  }

  /** Keeps every other point of the older half, so the newest steps stay dense. */
  private thin(): void {
    const half = Math.floor(this.steps.length / 2);
    const older = this.steps.slice(0, half).filter((_, i) => i % 2 === 0);
    this.steps = [...older, ...this.steps.slice(half)];
  }
}
