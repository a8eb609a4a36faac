// The image size a person types ("28x28"): the extension's vae.imageSize setting and the CLI's
// --size flag read it the same way, within the same bounds.

import { LIMITS } from './limits';

/** "28x28" → { width: 28, height: 28 }; null when malformed or a side is outside LIMITS.imageSide. */
export function parseImageSize(value: string): { width: number; height: number } | null {
  const m = /^\s*(\d{1,4})\s*[x×]\s*(\d{1,4})\s*$/i.exec(value);
  if (!m) return null;
  const width = Number(m[1]);
  const height = Number(m[2]);
  const { min, max } = LIMITS.imageSide;
  if (width < min || height < min || width > max || height > max) return null;
  return { width, height };
}
