// The per-step training curve of one epoch, built from the sums the trainer reads at each progress
// report. A stretch is the steps between two reports; when an epoch has more stretches than the
// cap, neighbours are merged pairwise (weighted by their images), so a long epoch keeps an even,
// bounded curve and every point is still an exact mean over the images it covers.

import type { CurvePoint, Likelihood } from '../../protocol/model';
import { elboTerms } from './objective';

export const MAX_CURVE_POINTS = 128;

/** Sums over a span of steps: the epoch so far as read at one moment, or one stretch of it. */
export interface EpochSums {
  step: number;
  images: number;
  seconds: number;
  logLikSum: number;
  klSum: number;
}

export class EpochCurve {
  private stretches: EpochSums[] = [];
  private previous: EpochSums = { step: 0, images: 0, seconds: 0, logLikSum: 0, klSum: 0 };

  constructor(
    private readonly pixels: number,
    private readonly likelihood: Likelihood,
    private readonly maxPoints = MAX_CURVE_POINTS,
  ) {}

  /**
   * Records the stretch since the previous reading and returns its terms (the current loss), or
   * null when no image was seen since then.
   */
  add(sums: EpochSums): CurvePoint | null {
    const p = this.previous;
    const stretch: EpochSums = {
      step: sums.step,
      images: sums.images - p.images,
      seconds: sums.seconds - p.seconds,
      logLikSum: sums.logLikSum - p.logLikSum,
      klSum: sums.klSum - p.klSum,
    };
    this.previous = sums;
    if (stretch.images <= 0) return null;
    this.stretches.push(stretch);
    if (this.stretches.length > this.maxPoints) this.halve();
    return this.point(stretch);
  }

  points(): CurvePoint[] {
    return this.stretches.map((s) => this.point(s));
  }

  private point(s: EpochSums): CurvePoint {
    return {
      step: s.step,
      terms: elboTerms(-s.logLikSum / s.images, s.klSum / s.images, this.pixels, this.likelihood),
      imagesPerSecond: s.seconds > 0 ? s.images / s.seconds : 0,
    };
  }

  private halve(): void {
    const merged: EpochSums[] = [];
    for (let i = 0; i < this.stretches.length; i += 2) {
      const a = this.stretches[i];
      const b = this.stretches[i + 1];
      merged.push(
        b
          ? {
              step: b.step,
              images: a.images + b.images,
              seconds: a.seconds + b.seconds,
              logLikSum: a.logLikSum + b.logLikSum,
              klSum: a.klSum + b.klSum,
            }
          : a,
      );
    }
    this.stretches = merged;
  }
}
