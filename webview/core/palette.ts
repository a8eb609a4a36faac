// Categorical colours for labels, taken from the theme so they stay readable on light, dark and
// high-contrast themes. The chart colours come first (VS Code designs them for every theme),
// then the terminal ANSI colours; the fallbacks are used only outside VS Code.

export const LABEL_COLOUR_VARS: readonly { name: string; fallback: string }[] = [
  { name: '--vscode-charts-blue', fallback: '#3794ff' },
  { name: '--vscode-charts-orange', fallback: '#d18616' },
  { name: '--vscode-charts-green', fallback: '#89d185' },
  { name: '--vscode-charts-red', fallback: '#f14c4c' },
  { name: '--vscode-charts-purple', fallback: '#b180d7' },
  { name: '--vscode-charts-yellow', fallback: '#cca700' },
  { name: '--vscode-terminal-ansiCyan', fallback: '#11a8cd' },
  { name: '--vscode-terminal-ansiMagenta', fallback: '#bc3fbc' },
  { name: '--vscode-terminal-ansiBrightGreen', fallback: '#23d18b' },
  { name: '--vscode-terminal-ansiBrightRed', fallback: '#f14c4c' },
  { name: '--vscode-terminal-ansiBrightBlue', fallback: '#3b8eea' },
  { name: '--vscode-terminal-ansiBrightYellow', fallback: '#f5f543' },
];

/** Points without a label use the chart foreground. */
export const UNLABELLED_COLOUR_VAR = { name: '--vscode-charts-foreground', fallback: '#cccccc' };

/** Parses #rgb, #rrggbb, #rrggbbaa and rgb()/rgba() into [r, g, b] 0–255, or null. */
export function parseColour(text: string): [number, number, number] | null {
  const s = text.trim();
  let m = /^#([0-9a-f]{3})$/i.exec(s);
  if (m) return [0, 1, 2].map((i) => parseInt(m![1][i] + m![1][i], 16)) as [number, number, number];
  m = /^#([0-9a-f]{6})([0-9a-f]{2})?$/i.exec(s);
  if (m) return [0, 2, 4].map((i) => parseInt(m![1].slice(i, i + 2), 16)) as [number, number, number];
  m = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)/i.exec(s);
  if (m) return [Number(m[1]), Number(m[2]), Number(m[3])].map((v) => Math.round(Math.min(255, v))) as [number, number, number];
  return null;
}

/** Packs an opaque colour into the little-endian RGBA word a Uint32Array view of ImageData uses. */
export function packRgba([r, g, b]: readonly number[], alpha = 255): number {
  return ((alpha << 24) | (b << 16) | (g << 8) | r) >>> 0;
}

/** A colour mixed towards the background, for points outside a selection or a search. */
export function mix(a: readonly number[], b: readonly number[], t: number): [number, number, number] {
  return [0, 1, 2].map((i) => Math.round(a[i] * (1 - t) + b[i] * t)) as [number, number, number];
}
