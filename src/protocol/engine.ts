// The engine protocol: what the owner (extension host or CLI) and the engine worker say to each
// other over Node IPC with `serialization: 'advanced'` (structured clone), so typed arrays travel
// intact. Every request carries an id; the worker answers each with exactly one `reply` or
// `failure`, and may send events tagged with that id before it does.

import type {
  BackendChoice,
  BackendReport,
  DatasetSource,
  ElboTerms,
  EpochSummary,
  ModelConfig,
  Preprocessing,
  RunManifest,
  TrainingConfig,
} from './model';
import type { LabelScan } from './labels';
import type { DescribeAnswers, DescribeQuestion, ModelManifest, NetShape } from './importedModel';

// ---------------------------------------------------------------------------------------------
// Requests (owner → worker)

export interface TrainRequest {
  type: 'train';
  id: number;
  /** Run folder to create (must not hold a run yet). */
  runDir: string;
  name: string;
  dataset: DatasetSource;
  model: ModelConfig;
  training: TrainingConfig;
  /** Omitted fields are chosen from the data (size of most images, grey or colour). */
  preprocessing?: Partial<Preprocessing>;
  /** Also compute the k-sample IWAE estimate of log p(x) on validation at each epoch end (0 = off). */
  iwaeSamples?: number;
}

export interface ResumeRequest {
  type: 'resume';
  id: number;
  runDir: string;
  /** Train until this many epochs are complete in total (default: the run's configured epochs). */
  epochs?: number;
  /** The folder the run was trained on, when it has moved since. */
  dataset?: DatasetSource;
  /** Importance samples of the log p(x) estimate from now on (default: the run's own setting). */
  iwaeSamples?: number;
}

export interface CancelRequest {
  type: 'cancel';
  id: number;
  /** Id of the request to cancel (training or encoding). */
  target: number;
}

export interface LoadRunRequest {
  type: 'loadRun';
  id: number;
  runDir: string;
}

export interface EncodeFolderRequest {
  type: 'encodeFolder';
  id: number;
  runDir: string;
  folder: string;
  /** Re-use encodings of files whose size and mtime did not change (default true). */
  incremental?: boolean;
  /**
   * false: posterior means and log-variances only, without each image's ELBO terms (the decoder's
   * forward pass); their figures stay empty until an encode with terms. Default true.
   */
  terms?: boolean;
}

export interface DecodeRequest {
  type: 'decode';
  id: number;
  runDir: string;
  /** count × latentSize values, row-major. */
  latents: Float32Array;
  /** Label index per point for a conditional run (one value for all, or one per point). */
  labels?: number[];
}

export type SampleMode = { kind: 'prior' } | { kind: 'around'; center: number[]; radius: number } | { kind: 'label'; label: string };

export interface SampleRequest {
  type: 'sample';
  id: number;
  runDir: string;
  count: number;
  mode: SampleMode;
  seed?: number;
}

export interface ReconstructRequest {
  type: 'reconstruct';
  id: number;
  runDir: string;
  files: string[];
}

export interface EstimateLogPxRequest {
  type: 'estimateLogPx';
  id: number;
  runDir: string;
  /** Files to evaluate; when omitted, the run's validation images. */
  files?: string[];
  k: number;
  maxImages?: number;
}

/**
 * UMAP of a folder's encoding with the run, read where it was written: the points never travel to
 * the worker. (PCA and latent-axis views need no engine: the webview computes them.)
 */
export interface ProjectRequest {
  type: 'project';
  id: number;
  runDir: string;
  folder: string;
  method: 'umap';
  seed?: number;
}

/**
 * Decodes latents (as `decode` does) and writes the images as PNG files `<stem>-001.png`, … into
 * `dir`, never overwriting a file. A view saves what it shows by its latents, a few bytes per image,
 * and the pixels are made where they are written.
 */
export interface WriteDecodedRequest {
  type: 'writeDecoded';
  id: number;
  runDir: string;
  /** count × latentSize values, row-major. */
  latents: Float32Array;
  /** Label index per point for a conditional run (one value for all, or one per point). */
  labels?: number[];
  dir: string;
  stem: string;
  /**
   * Names of equal rows the latents form, in order (e.g. ['lerp', 'slerp'] for two strips): each
   * row's files are told apart by its name. With rows or `sheet`, one save is a numbered set:
   * `<stem>-001-<row>-01.png`, …, never overwriting an earlier set.
   */
  rows?: string[];
  /** Also writes the set as one image, `<stem>-001.png`: a row per entry of `rows` (else one row). */
  sheet?: boolean;
}

/**
 * Thumbnails of images in one sprite image for the Embedding Projector: a square grid, row by row
 * in the order of `files`, at most 8192 × 8192 pixels (the Projector's limit), so the thumbnails
 * are the run's image size or smaller when that many do not fit. A file that cannot be read
 * leaves its cell empty, so cells stay in step with the points.
 */
export interface WriteSpriteRequest {
  type: 'writeSprite';
  id: number;
  /** The run whose preprocessing (size, channels, fit) the images are read with. */
  runDir: string;
  files: string[];
  /** The PNG file to write (replaced when it exists). */
  path: string;
}

/**
 * How the images under a folder would be labelled (first-level sub-folders), without loading
 * them: enough to warn before training that the labels are not classes.
 */
export interface ScanLabelsRequest {
  type: 'scanLabels';
  id: number;
  folder: string;
}

/**
 * Samples like `sample` and writes the images as PNG files `<stem>-001.png`, … into `dir`, never
 * overwriting a file: the pixels stay in the worker, where the files are written.
 */
export interface WriteSamplesRequest {
  type: 'writeSamples';
  id: number;
  runDir: string;
  count: number;
  mode: SampleMode;
  seed?: number;
  dir: string;
  stem: string;
}

/**
 * Writes the run's current model as encoder.onnx, decoder.onnx and latent-atlas-model.json into
 * `dir` (created; files of an earlier export there are replaced), for ONNX Runtime, PyTorch or
 * any ONNX reader — and loadable as a model itself.
 */
export interface ExportOnnxRequest {
  type: 'exportOnnx';
  id: number;
  runDir: string;
  dir: string;
}

/**
 * Describes the model files of a folder without latent-atlas-model.json: their shapes, the
 * manifest they and `answers` give, or the questions still open; with `write`, writes the manifest.
 */
export interface DescribeModelRequest {
  type: 'describeModel';
  id: number;
  dir: string;
  answers: DescribeAnswers;
  write: boolean;
}

/**
 * The k encoded images nearest to `file` in the full latent space, over the run's encodings (or
 * `folders`): by the Euclidean distance between posterior means, or the Bhattacharyya distance
 * between the posteriors. The file's stored point is used when it is encoded (and it is left out
 * of its own neighbours), else it is encoded now.
 */
export interface NeighboursRequest {
  type: 'neighbours';
  id: number;
  runDir: string;
  file: string;
  k: number;
  metric: 'euclidean' | 'bhattacharyya';
  folders?: string[];
}

/**
 * Writes the run's encodings of `parts` as one CSV table to `path` (replaced when it exists): a row
 * per image with its folder, label, μ, log σ² and ELBO terms — every image of a part's folder, or
 * only the ones it names, with where the explorer drew them when it gives coordinates.
 */
export interface ExportCsvRequest {
  type: 'exportCsv';
  id: number;
  runDir: string;
  parts: CsvPartRequest[];
  path: string;
  /**
   * Computes the map_x and map_y columns over every row of the table when no part gives them:
   * 'latent' the first two latent coordinates (the explorer's map of a 2-D latent), 'pca' the two
   * principal axes of the rows' posterior means (its default map above 2-D), 'umap' a UMAP layout.
   */
  map?: CsvMap;
}

export type CsvMap = 'latent' | 'pca' | 'umap';

export interface CsvPartRequest {
  /** An encoded folder, absolute. */
  folder: string;
  /** Only these images (paths relative to the folder, '/'-separated), in this order. */
  names?: string[];
  /** With `names`: two map coordinates per image (the map_x and map_y columns). */
  coords?: Float32Array;
}

/** Writes the built-in demo set as PNG files into `dir` (one sub-folder per class). */
export interface WriteDemoFolderRequest {
  type: 'writeDemoFolder';
  id: number;
  dir: string;
}

/**
 * The run's film: the fixed subset of its training images and their posterior means at each epoch
 * end that has a frame (see MapSubsetEvent / MapFrameEvent). Null when the run has none (an
 * imported model, a run trained before films).
 */
export interface ReadFilmRequest {
  type: 'readFilm';
  id: number;
  runDir: string;
}

export interface ShutdownRequest {
  type: 'shutdown';
  id: number;
}

export type EngineRequest =
  | TrainRequest
  | ResumeRequest
  | CancelRequest
  | LoadRunRequest
  | EncodeFolderRequest
  | DecodeRequest
  | SampleRequest
  | ReconstructRequest
  | EstimateLogPxRequest
  | ProjectRequest
  | WriteDecodedRequest
  | WriteSamplesRequest
  | WriteSpriteRequest
  | ScanLabelsRequest
  | WriteDemoFolderRequest
  | ExportOnnxRequest
  | DescribeModelRequest
  | NeighboursRequest
  | ExportCsvRequest
  | ReadFilmRequest
  | ShutdownRequest;

// ---------------------------------------------------------------------------------------------
// Results (the `result` of a reply, by request type)

/** Images as raw pixels, row-major, `count × height × width × channels` bytes. */
export interface ImageBatch {
  count: number;
  width: number;
  height: number;
  channels: 1 | 3;
  pixels: Uint8Array;
}

export interface TrainResult {
  runDir: string;
  /** complete, or cancelled (the last good checkpoint is kept). */
  state: 'complete' | 'cancelled';
  manifest: RunManifest;
}

export interface RunInfo {
  runDir: string;
  manifest: RunManifest;
  /** Every epoch summary from history.jsonl, in order. */
  history: EpochSummary[];
  /** Folders encoded with this run (absolute paths). */
  encodings: string[];
  /** Only for a run whose manifest says 'training': whether a live process trains it now. */
  training?: TrainingNow;
}

/** Who trains a run whose run.json says 'training', from the run's training lock. */
export type TrainingNow =
  /** A live process (this engine's worker or another) holds the lock. */
  | { state: 'running'; pid: number; host: string; since: string }
  /** Nobody does: the training was interrupted (a crash, a kill) and can be resumed. */
  | { state: 'interrupted' };

export interface Encoding {
  runDir: string;
  folder: string;
  /** Absolute paths of the images encoded, in point order. */
  files: string[];
  /** Label index per point (−1 where the file has no label). */
  labels: Int32Array;
  /** Label names for the indices above. */
  labelNames: string[];
  dims: number;
  /** count × dims posterior means (the log-variances stay in the run's encoding file). */
  mu: Float32Array;
  /**
   * Per point, nats: −log p(x|z) at one draw of z ~ q(z|x) and KL(q(z|x) ‖ p(z)) (the ELBO is
   * −both); null when the model cannot give them (an autoencoder, a Gaussian decoder without σ).
   */
  terms: { reconstruction: Float32Array; kl: Float32Array } | null;
  /** Per point, the posterior's spread: the mean over dimensions of σ = exp(½ log σ²) (NaN for an autoencoder). */
  meanSigma: Float32Array;
  /** Files skipped with their reasons. */
  skipped: FileProblem[];
  /** How many files were encoded now vs re-used from a previous encoding. */
  encoded: number;
  reused: number;
}

export interface FileProblem {
  file: string;
  reason: string;
}

export interface SampleResult {
  images: ImageBatch;
  /** count × latentSize values used. */
  latents: Float32Array;
}

export interface ReconstructResult {
  originals: ImageBatch;
  reconstructions: ImageBatch;
  /**
   * ELBO terms of each file (single-sample, nats); null for a model trained elsewhere whose
   * manifest does not give the likelihood (Gaussian means without σ) or the posterior (μ only).
   */
  terms: ElboTerms[] | null;
  skipped: FileProblem[];
}

export interface LogPxResult {
  k: number;
  count: number;
  /** Mean log p(x) estimate and mean ELBO over the same images, nats per image. */
  logPx: number;
  elbo: number;
}

export interface ProjectResult {
  /** count × 2 coordinates, in the encoding's point order. */
  coords: Float32Array;
}

export interface SpriteResult {
  path: string;
  /** Size of one thumbnail (the Projector's single_image_dim: width, height). */
  width: number;
  height: number;
  /** Thumbnails per row and per column. */
  columns: number;
  skipped: FileProblem[];
}

export interface NeighbourResult {
  file: string;
  /** Whether the file's point came from an encoding (else it was encoded for the query). */
  inEncoding: boolean;
  mu: Float32Array;
  /** Nearest first. */
  neighbours: { file: string; folder: string; label: string | null; distance: number }[];
}

export interface DescribeResult {
  /** Model files found (relative to the folder). */
  files: string[];
  encoder: NetShape | null;
  decoder: NetShape | null;
  manifest: ModelManifest | null;
  questions: DescribeQuestion[];
  /** The manifest's path when it was written. */
  written: string | null;
}

/** The images a film follows: at most 2,000 training images, stratified by label, fixed for the run. */
export interface FilmSubset {
  runDir: string;
  /** Absolute paths in the run's training folder, in point order (the demo set: names such as `circle/00001.png`). */
  files: string[];
  /** Label index per point (−1 where the file has no label). */
  labels: Int32Array;
  labelNames: string[];
  /** Latent dimensions per point. */
  dims: number;
}

/** One frame: count × dims posterior means after `epoch` epochs (0 = the untrained encoder). */
export interface FilmFrame {
  epoch: number;
  mu: Float32Array;
}

export interface Film extends FilmSubset {
  /** Every stored frame, by ascending epoch. */
  frames: FilmFrame[];
}

export interface EngineResults {
  train: TrainResult;
  resume: TrainResult;
  cancel: { cancelled: boolean };
  loadRun: RunInfo;
  encodeFolder: Encoding;
  decode: ImageBatch;
  sample: SampleResult;
  reconstruct: ReconstructResult;
  estimateLogPx: LogPxResult;
  project: ProjectResult;
  /** Absolute paths written, in latent order; `sheet`: the one image of the set, when asked for. */
  writeDecoded: { files: string[]; sheet?: string };
  writeSprite: SpriteResult;
  scanLabels: LabelScan;
  /** Absolute paths written, in sample order. */
  writeSamples: { files: string[] };
  /** How many demo images were written. */
  writeDemoFolder: { count: number };
  /** Absolute paths written: encoder.onnx, decoder.onnx, latent-atlas-model.json. */
  exportOnnx: { files: string[] };
  describeModel: DescribeResult;
  neighbours: NeighbourResult;
  /** Rows written (one per image). */
  exportCsv: {
    path: string;
    rows: number;
    /** How map_x and map_y were computed when `map` was asked for; `explained`: each PCA axis's share of the variance. */
    map?: { kind: CsvMap; explained?: [number, number] };
  };
  readFilm: Film | null;
  shutdown: Record<string, never>;
}

// ---------------------------------------------------------------------------------------------
// Messages (worker → owner)

export interface ReadyEvent {
  type: 'ready';
  backend: BackendReport;
  tfjsVersion: string;
}

export interface ProgressEvent {
  type: 'progress';
  requestId: number;
  epoch: number;
  epochs: number;
  step: number;
  stepInEpoch: number;
  stepsPerEpoch: number;
  /** Means over the steps since the previous progress event (the current loss), nats per image. */
  terms: ElboTerms;
  /** Running means over the epoch so far (what the epoch summary's train figures will be). */
  epochTerms: ElboTerms;
  imagesPerSecond: number;
  /** Estimated seconds until training ends. */
  eta: number;
}

export interface EpochEvent {
  type: 'epoch';
  requestId: number;
  runDir: string;
  summary: EpochSummary;
}

/** Data loading, training start, encoding progress: one line a person may want to see. */
export interface StatusEvent {
  type: 'status';
  requestId: number;
  message: string;
  done?: number;
  total?: number;
}

/**
 * encodeFolder's points before each image's ELBO terms: every file's posterior is known and stored
 * (new files' terms NaN), so the map can be drawn while the decoder computes the terms; the reply
 * is the same encoding with them. Sent only when terms are still to be computed.
 */
export interface EncodedPointsEvent {
  type: 'encodedPoints';
  requestId: number;
  encoding: Encoding;
}

/** A projection's layout so far (UMAP converging), n × 2 in point order; the reply holds the final one. */
export interface LayoutEvent {
  type: 'layout';
  requestId: number;
  coords: Float32Array;
  epoch: number;
  epochs: number;
}

/**
 * A training's film subset, once per train or resume request, before its first mapFrame. `epochs`
 * lists the frames stored before this training (a resumed run; readFilm gives them); empty when
 * the film starts now.
 */
export interface MapSubsetEvent extends FilmSubset {
  type: 'mapSubset';
  requestId: number;
  epochs: number[];
}

/** A film frame, sent once it is stored: before the first epoch (0) and after each committed epoch. */
export interface MapFrameEvent {
  type: 'mapFrame';
  requestId: number;
  runDir: string;
  epoch: number;
  dims: number;
  /** count × dims posterior means, in the subset's point order. */
  mu: Float32Array;
}

export interface WarningEvent {
  type: 'warning';
  requestId: number;
  file?: string;
  reason: string;
}

export interface ReplyMessage<K extends keyof EngineResults = keyof EngineResults> {
  type: 'reply';
  id: number;
  request: K;
  result: EngineResults[K];
}

export type EngineErrorCode =
  | 'bad-request'
  | 'no-images'
  | 'not-a-run'
  | 'run-exists'
  | 'corrupt-run'
  | 'backend-unavailable'
  | 'out-of-memory'
  /** The GPU device was lost mid-request (driver reset, GPU removed); the worker restarts. */
  | 'device-lost'
  /** A write refused by the disk (full, read-only, no permission): of a run, samples or images; the message names the file. */
  | 'file-system'
  | 'cancelled'
  | 'internal';

export interface FailureMessage {
  type: 'failure';
  id: number;
  code: EngineErrorCode;
  /** Plain words: what went wrong and what to do. */
  message: string;
  /** The worker stops after this failure (a lost GPU, an error nothing caught): send nothing more to it. */
  fatal?: true;
}

export type EngineEvent =
  ProgressEvent | EpochEvent | StatusEvent | WarningEvent | LayoutEvent | MapSubsetEvent | MapFrameEvent | EncodedPointsEvent;
export type WorkerMessage = ReadyEvent | EngineEvent | ReplyMessage | FailureMessage;

/** Options the owner passes to the worker at start (argv JSON). */
export interface WorkerOptions {
  backend: BackendChoice;
  /** Extra folder where tfjs-node / tfjs-node-gpu may be installed by the user. */
  nativeModulesPath?: string;
  /** wasm thread count (0 = automatic). */
  threads?: number;
}

/** Distributes over the request union: a request without its id, for `EngineClient.request`. */
export type RequestBody<T extends EngineRequest['type']> = Omit<Extract<EngineRequest, { type: T }>, 'id'>;
