// Where the Latent Explorer's "Save" buttons write: a sub-folder per kind of image under the
// run's samples folder, an interpolation as one numbered set (lerp and slerp named apart, and a
// sheet with a row per method). Pure Node, no 'vscode': unit-tested directly.

import { join } from 'node:path';
import type { RequestBody } from '../protocol/engine';

/** What `writeDecoded` needs besides the run and the latents. */
export type SaveTarget = Pick<RequestBody<'writeDecoded'>, 'dir' | 'stem' | 'rows' | 'sheet'>;

/** The kinds of images the explorer saves, by the base name it gives them, and their sub-folders. */
const KINDS: Record<string, { folder: string; sheet: boolean; rows?: string[] }> = {
  // The strip request decodes the lerp strip, then the slerp strip, of the same length.
  interpolation: { folder: 'interpolations', sheet: true, rows: ['lerp', 'slerp'] },
  sample: { folder: 'samples', sheet: false },
  traversal: { folder: 'traversals', sheet: true },
  manifold: { folder: 'manifolds', sheet: true },
};

/**
 * The folder, file stem and layout for `count` images the explorer saves as `baseName`, under
 * `runSamples` (`<workspace>/<vae.samplesFolder>/<run>/`). `rows` names the rows when the webview
 * gives them (a traversal's dimensions); a kind it does not know keeps today's flat files.
 */
export function saveTarget(baseName: string, count: number, runSamples: string, rows?: string[]): SaveTarget {
  const stem = baseName.replace(/[^\w.-]+/g, '-') || 'image';
  const kind = KINDS[stem];
  if (!kind) return { dir: runSamples, stem };
  const named = rows?.length ? rows : kind.rows;
  const fits = named !== undefined && count > 0 && count % named.length === 0;
  return {
    dir: join(runSamples, kind.folder),
    stem,
    ...(fits ? { rows: named } : {}),
    ...(kind.sheet ? { sheet: true } : {}),
  };
}
