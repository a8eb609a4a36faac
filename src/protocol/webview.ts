// The webview protocol: what the extension host and the Latent Explorer webview say to each other
// through `webview.postMessage` / `acquireVsCodeApi().postMessage`. The webview posts `ready`
// first; the host posts nothing before it. Typed arrays are sent as such.

import type { ImageBatch, NeighboursRequest, ReconstructResult, SampleMode } from './engine';
import type { BackendReport, CurvePoint, ElboTerms, EpochSummary, Likelihood } from './model';
import type { PackedNames } from './pointNames';
import type { Setting } from './runSettings';

/** What the webview needs to know about the active model. */
export interface ModelInfo {
  runName: string;
  runDir: string;
  latentSize: number;
  width: number;
  height: number;
  channels: 1 | 3;
  likelihood: Likelihood;
  conditional: boolean;
  labels: string[];
}

/** One point of the per-step series (throttled to ~10 per second by the engine). */
export interface StepPoint extends CurvePoint {
  epoch: number;
}

export type TrainingState = 'starting' | 'running' | 'complete' | 'cancelled' | 'failed';

export interface TrainingStatus {
  state: TrainingState;
  runName: string;
  epoch: number;
  epochs: number;
  step: number;
  stepsPerEpoch: number;
  imagesPerSecond: number;
  /** Seconds until the end, when running. */
  eta: number | null;
  message?: string;
}

// ---------------------------------------------------------------------------------------------
// Host → webview

export interface InitMessage {
  type: 'init';
  model: ModelInfo | null;
  backend: BackendReport | null;
}

/**
 * One encoded folder's points. The explorer shows every folder it was sent at once (train beside
 * test): a points message replaces the points of its folder, or adds the folder, and keeps the
 * others. `replace: 'all'` drops the other folders first — the host starts a replay with it — and
 * a message with folder '' clears every folder (no points, e.g. after another model is loaded).
 * Folders keep the order they first came in; a point is named by (folder, name).
 */
export interface PointsMessage {
  type: 'points';
  /** 'folder' (the default): replace or add this folder's points; 'all': these are the only points shown. */
  replace?: 'folder' | 'all';
  /** The encoded folder, absolute, in the host's path syntax ('' when there are no points). */
  folder: string;
  /** How a person calls the folder (relative to the workspace), for the folder legend; its last segment when absent. */
  title?: string;
  /** The folder's webview URI; a point's image is at `pointUri(folderUri, name)`. */
  folderUri: string;
  /** Each point's file relative to the folder, '/'-separated, in point order, packed (see pointNames.ts). */
  names: PackedNames;
  /** Label index per point, −1 for none. */
  labels: Int32Array;
  labelNames: string[];
  dims: number;
  /** count × dims posterior means. */
  mu: Float32Array;
  /** Per point, in point order: the encoding's ELBO terms; absent or null when the model cannot give them. */
  terms?: PointTerms | null;
  /** Per point: the posterior's spread, exp(½·log σ²) averaged over the latent dimensions, when known. */
  meanSigma?: Float32Array;
}

/**
 * A shown folder's ELBO terms, computed after its points were sent (the map is drawn first; the
 * decoder's pass for the terms follows): they fill in its points' figures, in point order.
 */
export interface PointTermsMessage {
  type: 'pointTerms';
  folder: string;
  terms: PointTerms;
}

/** Nats per image, one value per point: −ELBO = reconstruction + KL. */
export interface PointTerms {
  /** −log p(x|z) at one draw of z ~ q(z|x). */
  reconstruction: Float32Array;
  /** KL(q(z|x) ‖ p(z)). */
  kl: Float32Array;
}

/** Full replay of the training series kept by the host (sent on ready and on becoming visible). */
export interface SeriesMessage {
  type: 'series';
  status: TrainingStatus | null;
  steps: StepPoint[];
  epochs: EpochSummary[];
}

export interface StepMessage {
  type: 'step';
  point: StepPoint;
  status: TrainingStatus;
}

export interface EpochMessage {
  type: 'epoch';
  summary: EpochSummary;
  status: TrainingStatus;
}

export interface StatusMessage {
  type: 'status';
  status: TrainingStatus;
}

/** A run of the workspace the Training view can compare with (it has at least one epoch). */
export interface RunChoice {
  runDir: string;
  name: string;
  settings: Setting[];
  /** The run the view's series is of (training or loaded): compared with, not added. */
  current?: true;
}

/** The runs of the workspace with epochs (sent on ready, when the series changes and when asked). */
export interface RunsMessage {
  type: 'runs';
  runs: RunChoice[];
}

/** One epoch of a compared run: what the comparison charts draw. */
export interface ComparedEpoch {
  epoch: number;
  train: ElboTerms;
  validation: ElboTerms | null;
}

/** A run's per-epoch figures and settings, read from its folder. Answers `compareRun`. */
export interface ComparedRunMessage {
  type: 'comparedRun';
  requestId: number;
  run: RunChoice & { epochs: ComparedEpoch[] };
}

export interface BackendMessage {
  type: 'backend';
  backend: BackendReport;
}

export interface ImagesMessage {
  type: 'images';
  requestId: number;
  images: ImageBatch;
  /** For samples, the count × latentSize latents drawn (a decode's latents are the ones asked for). */
  latents?: Float32Array;
}

export interface ReconstructionMessage {
  type: 'reconstruction';
  requestId: number;
  /** The point's file, as the request named it. */
  name: string;
  result: ReconstructResult;
}

export interface ProjectionMessage {
  type: 'projection';
  requestId: number;
  coords: Float32Array;
  /** An intermediate layout while UMAP converges (a few per second); the final one has no `partial`. */
  partial?: true;
}

export interface SavedMessage {
  type: 'saved';
  requestId: number;
  /** Absolute paths written, in order. */
  files: string[];
  /** The folder they were written to, as the person knows it (relative to the workspace). */
  folder: string;
}

/**
 * The latent space forming over training: the posterior means of a fixed subset of the training
 * images (at most 2,000, stratified by label) after each epoch — epoch 0 is the untrained encoder.
 * `replace` starts a new film (another run, or the whole film read back from the run folder);
 * otherwise the frames are appended to the film of the same run.
 */
export interface FilmMessage {
  type: 'film';
  runDir: string;
  replace: boolean;
  dims: number;
  /** Label index per subset image, −1 for none. */
  labels: Int32Array;
  labelNames: string[];
  frames: { epoch: number; mu: Float32Array }[];
}

/** A selection export done: what it did, in a sentence, and the file or folder to reveal when it wrote one. */
export interface ExportedMessage {
  type: 'exported';
  requestId: number;
  text: string;
  reveal?: string;
}

export type NeighbourMetric = NeighboursRequest['metric'];

/** One of the k nearest encoded images, in any folder the run has encoded. */
export interface Neighbour {
  /** Its folder (absolute, host syntax), that folder's webview URI and its name relative to it ('/'-separated). */
  folder: string;
  folderUri: string;
  name: string;
  label: string | null;
  /** In the full latent space, by the metric asked for. */
  distance: number;
}

/** Answers `findNeighbours`: the query as it was asked, nearest first. */
export interface NeighboursMessage extends PointFile {
  type: 'neighbours';
  requestId: number;
  k: number;
  metric: NeighbourMetric;
  neighbours: Neighbour[];
  /** Set when the neighbours are of an image file that is not a point shown (then folder is ''). */
  query?: NeighbourQuery;
}

/** An image file asked about from VS Code ("Find Similar Images"): its path, its webview URI, its posterior mean. */
export interface NeighbourQuery {
  file: string;
  uri: string;
  mu: number[];
}

/**
 * "Find Similar Images" on a file in VS Code: the explorer shows its neighbours. When the file is a
 * point shown (`point`), it is pinned and its neighbours found as for a click; otherwise the
 * explorer asks with `findNeighbours.file` and shows the file beside the list.
 */
export interface NeighboursOfMessage {
  type: 'neighboursOf';
  file: string;
  uri: string;
  point: PointFile | null;
}

export interface ErrorMessage {
  type: 'error';
  /** The request that failed, when the error answers one. */
  requestId?: number;
  message: string;
}

export type ToWebviewMessage =
  | InitMessage
  | PointsMessage
  | PointTermsMessage
  | SeriesMessage
  | StepMessage
  | EpochMessage
  | StatusMessage
  | BackendMessage
  | RunsMessage
  | ComparedRunMessage
  | ImagesMessage
  | ReconstructionMessage
  | ProjectionMessage
  | NeighboursMessage
  | NeighboursOfMessage
  | SavedMessage
  | ExportedMessage
  | FilmMessage
  | ErrorMessage;

// ---------------------------------------------------------------------------------------------
// Webview → host

export interface ReadyMessage {
  type: 'ready';
}

/** Decode latent points (grid, interpolation strip, traversal). Answered by `images`. */
export interface DecodeLatentsMessage {
  type: 'decode';
  requestId: number;
  /** count × latentSize values, row-major. */
  latents: Float32Array;
  /** Label index for a conditional model. */
  label?: number;
}

/** Answered by `images`. */
export interface SampleLatentsMessage {
  type: 'sample';
  requestId: number;
  count: number;
  mode: SampleMode;
}

/** A shown point's file: one of the shown folders and a name in it. */
export interface PointFile {
  folder: string;
  name: string;
}

/** Answered by `reconstruction`. */
export interface ReconstructFileMessage extends PointFile {
  type: 'reconstruct';
  requestId: number;
}

/**
 * The k encoded images nearest to a shown point in the model's full latent space (every folder
 * the run has encoded; the point itself left out). Answered by `neighbours`.
 */
export interface FindNeighboursMessage extends PointFile {
  type: 'findNeighbours';
  requestId: number;
  k: number;
  metric: NeighbourMetric;
  /** Instead of a point shown: a file the host named in `neighboursOf` (the only other files it queries). */
  file?: string;
}

/**
 * UMAP of one shown folder's points (computed in the engine worker from the run's encoding of the
 * folder). Answered by `projection`. With several folders shown, UMAP lays out each folder on its
 * own: a layout fitted to one folder says nothing about where another's points fall.
 */
export interface ProjectPointsMessage {
  type: 'project';
  requestId: number;
  folder: string;
  method: 'umap';
}

export interface OpenFileMessage extends PointFile {
  type: 'openFile';
}

/**
 * Save decoded images as PNG files into the workspace, named by the latents they were decoded
 * from (the engine decodes them again where it writes). Answered by `saved`.
 */
export interface SaveImagesMessage {
  type: 'saveImages';
  requestId: number;
  /** count × latentSize values, row-major. */
  latents: Float32Array;
  /** Label index for a conditional model. */
  label?: number;
  /** File name stem, e.g. "interpolation"; files become stem-001.png, … never overwriting. */
  baseName: string;
  /** A name per row of a grid (a traversal's dimensions), in the file names and the sheet's row order. */
  rows?: string[];
}

/**
 * Export the selected points (a brush or lasso selection of the points shown; every point shown
 * when nothing is selected): the host asks how — file paths to the clipboard, a CSV table, or the
 * images copied into a new folder — and answers with `exported` (or nothing when the person cancels).
 */
export interface ExportSelectionMessage {
  type: 'exportSelection';
  requestId: number;
  /** Per folder, the points' names (relative, '/'-separated) and where the map draws them (x, y per point). */
  parts: { folder: string; names: string[]; coords: Float32Array }[];
  /** What the map's two coordinates are, as its axes name them. */
  axes: [string, string];
  /** True for a brush or lasso selection, false for every point shown. */
  selection: boolean;
}

/** Shows a file the explorer saved in VS Code's Explorer view. */
export interface RevealFileMessage {
  type: 'revealFile';
  /** One of the paths a `saved` message named. */
  file: string;
}

/** Asks for the workspace's runs again (the Compare control is opened). Answered by `runs`. */
export interface ListRunsMessage {
  type: 'listRuns';
}

/** Another run's per-epoch figures for the Training view. Answered by `comparedRun` (or `error`). */
export interface CompareRunMessage {
  type: 'compareRun';
  requestId: number;
  runDir: string;
}

export interface StopTrainingMessage {
  type: 'stopTraining';
}

export type FromWebviewMessage =
  | ReadyMessage
  | DecodeLatentsMessage
  | SampleLatentsMessage
  | ReconstructFileMessage
  | FindNeighboursMessage
  | ProjectPointsMessage
  | OpenFileMessage
  | SaveImagesMessage
  | ExportSelectionMessage
  | RevealFileMessage
  | ListRunsMessage
  | CompareRunMessage
  | StopTrainingMessage;

/**
 * The webview URI of a point's image: the folder's URI and the name's segments, each escaped (a
 * file name may hold '#', '?', '%' or spaces).
 */
export function pointUri(folderUri: string, name: string): string {
  return `${folderUri.replace(/\/+$/, '')}/${name.split('/').map(encodeURIComponent).join('/')}`;
}
