// What the explorer keeps in `vscode.setState` so hiding the panel or reloading the window
// brings back the same view. Restoring validates everything: state from an older version or a
// damaged blob falls back to defaults field by field.

import type { NeighbourMetric } from '../../src/protocol/webview';
import type { ColourBy } from './figures';
import type { Point2 } from './hitTest';
import { NO_IMAGES, restoreShownImages, type ShownImages } from './storedImages';

export type Projection = { kind: 'pca' } | { kind: 'umap' } | { kind: 'dims'; x: number; y: number };
export type PointerMode = 'pan' | 'brush' | 'lasso' | 'interpolate';
export type Tab = 'images' | 'training';

/** A point's file: the encoded folder and the name in it. */
export interface PinnedFile {
  folder: string;
  name: string;
}

export interface ViewState {
  version: 1;
  transform: { k: number; x: number; y: number };
  /** Selection outline in data coordinates of the projection it was drawn in. */
  selection: Point2[] | null;
  isolate: boolean;
  hiddenLabels: number[];
  /** Folders switched off in the folder legend (absolute, host syntax). */
  hiddenFolders: string[];
  search: string;
  mode: PointerMode;
  /** Interpolation endpoints as latent vectors. */
  endpoints: number[][];
  steps: number;
  manifold: boolean;
  gaussianGrid: boolean;
  /** Density contours of the points (and the prior's circles) over the map. */
  density: boolean;
  projection: Projection;
  tab: Tab;
  /** Label used to condition decodes of a conditional model. */
  conditionLabel: number;
  /** The run folder of the model the endpoints, pin and images belong to (null: not known yet). */
  model: string | null;
  /** The point Reconstruct, Sample around and Traverse act on. */
  pin: PinnedFile | null;
  /** What the Images tab shows. */
  shown: ShownImages;
  /** Label, or a figure of each image (shown as label when the points lack it). */
  colourBy: ColourBy;
  neighbourK: number;
  neighbourMetric: NeighbourMetric;
  /** Run folders compared in the Training view (added again once the host lists them). */
  compared: string[];
}

export const DEFAULT_VIEW_STATE: ViewState = {
  version: 1,
  transform: { k: 1, x: 0, y: 0 },
  selection: null,
  isolate: false,
  hiddenLabels: [],
  hiddenFolders: [],
  search: '',
  mode: 'pan',
  endpoints: [],
  steps: 8,
  manifold: false,
  gaussianGrid: false,
  density: false,
  projection: { kind: 'pca' },
  tab: 'images',
  conditionLabel: 0,
  model: null,
  pin: null,
  shown: NO_IMAGES,
  colourBy: 'label',
  neighbourK: 10,
  neighbourMetric: 'euclidean',
  compared: [],
};

const COLOUR_BY: readonly ColourBy[] = ['label', 'folder', 'negElbo', 'reconstruction', 'kl', 'meanSigma'];

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isPoint = (p: unknown): p is Point2 => Array.isArray(p) && p.length === 2 && finite(p[0]) && finite(p[1]);

export function restoreViewState(raw: unknown): ViewState {
  const s = { ...DEFAULT_VIEW_STATE };
  if (!raw || typeof raw !== 'object') return s;
  const r = raw as Record<string, unknown>;
  const t = r.transform as Record<string, unknown> | undefined;
  if (t && finite(t.k) && t.k > 0 && finite(t.x) && finite(t.y)) s.transform = { k: t.k, x: t.x, y: t.y };
  if (Array.isArray(r.selection) && r.selection.length >= 3 && r.selection.every(isPoint)) {
    s.selection = r.selection.map((p) => [p[0], p[1]] as Point2);
  }
  if (typeof r.isolate === 'boolean') s.isolate = r.isolate && s.selection !== null;
  if (Array.isArray(r.hiddenLabels)) s.hiddenLabels = r.hiddenLabels.filter((v): v is number => Number.isInteger(v));
  if (Array.isArray(r.hiddenFolders)) s.hiddenFolders = r.hiddenFolders.filter((v): v is string => typeof v === 'string').slice(0, 100);
  if (typeof r.search === 'string') s.search = r.search.slice(0, 200);
  if (r.mode === 'pan' || r.mode === 'brush' || r.mode === 'lasso' || r.mode === 'interpolate') s.mode = r.mode;
  if (Array.isArray(r.endpoints) && r.endpoints.length <= 2) {
    const ends = r.endpoints.filter((e): e is number[] => Array.isArray(e) && e.length > 0 && e.every(finite));
    if (ends.length === r.endpoints.length) s.endpoints = ends.map((e) => [...e]);
  }
  if (Number.isInteger(r.steps) && (r.steps as number) >= 2 && (r.steps as number) <= 64) s.steps = r.steps as number;
  if (typeof r.manifold === 'boolean') s.manifold = r.manifold;
  if (typeof r.gaussianGrid === 'boolean') s.gaussianGrid = r.gaussianGrid;
  if (typeof r.density === 'boolean') s.density = r.density;
  const p = r.projection as Record<string, unknown> | undefined;
  if (p && (p.kind === 'pca' || p.kind === 'umap')) s.projection = { kind: p.kind };
  if (p && p.kind === 'dims' && Number.isInteger(p.x) && Number.isInteger(p.y)) {
    s.projection = { kind: 'dims', x: p.x as number, y: p.y as number };
  }
  if (r.tab === 'images' || r.tab === 'training') s.tab = r.tab;
  if (Number.isInteger(r.conditionLabel) && (r.conditionLabel as number) >= 0) s.conditionLabel = r.conditionLabel as number;
  if (typeof r.model === 'string') s.model = r.model;
  const pin = r.pin as Record<string, unknown> | undefined;
  if (pin && typeof pin.folder === 'string' && typeof pin.name === 'string' && pin.name) s.pin = { folder: pin.folder, name: pin.name };
  s.shown = restoreShownImages(r.shown);
  if (COLOUR_BY.includes(r.colourBy as ColourBy)) s.colourBy = r.colourBy as ColourBy;
  if (Number.isInteger(r.neighbourK) && (r.neighbourK as number) >= 1 && (r.neighbourK as number) <= 100)
    s.neighbourK = r.neighbourK as number;
  if (r.neighbourMetric === 'euclidean' || r.neighbourMetric === 'bhattacharyya') s.neighbourMetric = r.neighbourMetric;
  if (Array.isArray(r.compared)) s.compared = r.compared.filter((v): v is string => typeof v === 'string' && v !== '').slice(0, 20);
  return s;
}
