// Bounds of the numeric settings, one table for the extension's settings (vae.*) and the CLI's
// flags, so a value the one accepts the other accepts too.

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
  /** Width and height of the images the model takes, in pixels. */
  imageSide: { min: 1, max: 1024, int: true },
} as const satisfies Record<string, Limit>;
