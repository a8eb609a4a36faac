// The shape check of a history.jsonl line: a line that is valid JSON but not a whole EpochSummary
// (a hand edit, a damaged disk block) is skipped rather than shown or kept in place of a good one.

import type { CurvePoint, ElboTerms, EpochSummary } from '../../protocol/model';

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
