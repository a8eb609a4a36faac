// Bounds of the numeric settings, one table for the extension's settings (vae.*, whose
// package.json schema a unit test checks against it), the CLI's flags and the engine's own
// validation of a request, so a value one of them accepts the others accept too.

export interface Limit {
  min: number;
  max: number;
  /** Whole numbers only. */
  int: boolean;
}

export const LIMITS = {
  latentSize: { min: 1, max: 256, int: true },
  sigma: { min: 0.001, max: 10, int: false },
  beta: { min: 0, max: 100, int: false },
  epochs: { min: 1, max: 10000, int: true },
  batchSize: { min: 1, max: 8192, int: true },
  learningRate: { min: 1e-6, max: 1, int: false },
  validationSplit: { min: 0, max: 0.9, int: false },
  seed: { min: 0, max: 2147483647, int: true },
  iwaeSamples: { min: 0, max: 5000, int: true },
  /** Each entry of hiddenUnits / convFilters. */
  hiddenUnits: { min: 1, max: 4096, int: true },
  convFilters: { min: 1, max: 1024, int: true },
  wasmThreads: { min: 0, max: 64, int: true },
  workerMemoryMB: { min: 512, max: 131072, int: true },
  /** Width and height of the images the model takes, in pixels. */
  imageSide: { min: 1, max: 1024, int: true },
} as const satisfies Record<string, Limit>;

export type LimitName = keyof typeof LIMITS;

/** Why `value` is outside LIMITS[name], in words naming `label` (e.g. "epochs"), or undefined. */
export function limitProblem(name: LimitName, value: number, label: string = name): string | undefined {
  const { min, max, int } = LIMITS[name];
  if (Number.isFinite(value) && value >= min && value <= max && (!int || Number.isInteger(value))) return undefined;
  return `${label} must be ${int ? 'a whole number' : 'a number'} from ${min} to ${max}, got ${value}`;
}

/** File extensions read as images (lower case, with the dot). */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.gif'] as const;
