// history.jsonl as text: the shape check of a line — a line that is valid JSON but not a whole
// EpochSummary (a hand edit, a damaged disk block) is skipped rather than shown or kept in place of
// a good one — and the parse, one rule for the engine's run store and the host's run comparison.

import type { CurvePoint, ElboTerms, EpochSummary } from './model';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A figure; JSON writes NaN and ±Infinity (a diverged epoch) as null, which stays allowed. */
const isFigure = (v: unknown): boolean => typeof v === 'number' || v === null;
const isCount = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0;

function isTerms(v: unknown): v is ElboTerms {
  return isObject(v) && isFigure(v.reconstruction) && isFigure(v.kl) && isFigure(v.elbo) && isFigure(v.bitsPerDim);
}

function isCurvePoint(v: unknown): v is CurvePoint {
  return isObject(v) && isCount(v.step) && isTerms(v.terms) && isFigure(v.imagesPerSecond);
}

export function isEpochSummary(v: unknown): v is EpochSummary {
  return (
    isObject(v) &&
    isCount(v.epoch) &&
    (v.epoch as number) >= 1 &&
    isCount(v.step) &&
    isTerms(v.train) &&
    (v.validation === null || isTerms(v.validation)) &&
    Array.isArray(v.klPerDim) &&
    v.klPerDim.every(isFigure) &&
    isCount(v.activeUnits) &&
    (v.logPx === undefined || (isObject(v.logPx) && isCount(v.logPx.k) && isFigure(v.logPx.value))) &&
    isFigure(v.imagesPerSecond) &&
    isFigure(v.seconds) &&
    typeof v.backend === 'string' &&
    typeof v.time === 'string' &&
    (v.curve === undefined || (Array.isArray(v.curve) && v.curve.every(isCurvePoint)))
  );
}

/**
 * The epoch summaries of a history.jsonl text in order. Lines that do not parse (a torn last line)
 * are skipped, and so are lines that parse but are not a whole EpochSummary (reported through
 * `badLine`, 1-based), so a damaged line never hides a good one; epochs beyond `epochsCompleted`
 * (written just before a crash) are dropped; a repeated epoch (after a resume) keeps its latest good line.
 */
export function parseHistory(text: string, epochsCompleted: number, badLine?: (line: number) => void): EpochSummary[] {
  const byEpoch = new Map<number, EpochSummary>();
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let s: unknown;
    try {
      s = JSON.parse(line);
    } catch {
      return; // a torn line (crash mid-append): expected, ignored
    }
    if (!isEpochSummary(s)) {
      badLine?.(i + 1);
      return;
    }
    if (s.epoch <= epochsCompleted) byEpoch.set(s.epoch, s);
  });
  return [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
}
