// What the extension knows at a moment: the engine client (started on first use), the active
// model, the running training, the encodings shown (every folder encoded with the active model in
// this session, train beside test) and the live ELBO series. Commands change
// it; the explorer panel and the status bar listen to it.

import * as vscode from 'vscode';
import type { Encoding, EngineEvent, Film, RunInfo } from '../protocol/engine';
import type { BackendReport } from '../protocol/model';
import type { EpochMessage, FilmMessage, StatusMessage, StepMessage } from '../protocol/webview';
import { Disposable } from './disposable';
import { EngineClient } from '../client/engineClient';
import { readSettings, settingKeys } from './settings';
import { TrainingSeries } from './trainingSeries';
import { backendText } from '../protocol/backendText';

export type SessionChange =
  | { kind: 'model' }
  | { kind: 'points'; encoding: Encoding }
  | { kind: 'terms'; encoding: Encoding }
  | { kind: 'training'; message: StepMessage | EpochMessage | StatusMessage }
  /** The whole series changed (a new training, a loaded run): replay it. */
  | { kind: 'series' }
  /** Frames of the latent space over training: a whole film (replace) or the next frame. */
  | { kind: 'film'; message: FilmMessage }
  | { kind: 'backend'; backend: BackendReport };

export interface RunningTraining {
  requestId: number;
  runDir: string;
  name: string;
  stopRequested: boolean;
}

const ACTIVE_RUN_KEY = 'latentAtlas.activeRun';
const SHOWN_FOLDER_KEY = 'latentAtlas.shownFolder';
/** Settings that change how the worker starts: a new worker is needed for them to apply. */
const WORKER_SETTINGS = ['vae.backend', 'vae.nativeModulesPath', 'vae.wasmThreads', 'vae.workerMemoryMB'];

export class Session extends Disposable {
  readonly series = new TrainingSeries();
  private readonly changes = this.register(new vscode.EventEmitter<SessionChange>());
  readonly onDidChange = this.changes.event;
  private client: EngineClient | undefined;
  private restartWorkerWhenIdle = false;
  private model: RunInfo | undefined;
  /** The active model's encodings shown, by folder, in the order they were first shown. */
  private readonly shown = new Map<string, Encoding>();
  private lastShown: Encoding | undefined;
  /** Encodings running now, by folder: a second request for the same folder waits for the first. */
  private readonly encoding = new Map<string, Promise<Encoding | undefined>>();
  private running: RunningTraining | undefined;
  /** The run the ELBO series belongs to. */
  private seriesRunDir: string | undefined;
  /** The film of the run training now, or of the active model (read from its run folder). */
  private filmNow: FilmMessage | null = null;

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly log: vscode.LogOutputChannel,
  ) {
    super();
    this.register(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration('vae')) return;
        const config = vscode.workspace.getConfiguration('vae');
        const changed = settingKeys().filter((k) => e.affectsConfiguration(`vae.${k}`));
        this.log.info(`Settings changed: ${changed.map((k) => `vae.${k} = ${JSON.stringify(config.get(k))}`).join(', ')}`);
        if (WORKER_SETTINGS.some((s) => e.affectsConfiguration(s))) this.recycleWorker();
      }),
    );
    this.register({ dispose: () => void this.client?.dispose() });
  }

  /** The engine client; the worker process itself starts with the first request. */
  engine(): EngineClient {
    if (this.client) return this.client;
    const settings = readSettings((k) => vscode.workspace.getConfiguration('vae').get(k));
    const { maxMemoryMB, ...worker } = settings.worker;
    const client = new EngineClient({ workerPath: this.context.asAbsolutePath('dist/worker.js'), worker, maxOldSpaceMb: maxMemoryMB });
    client.events.on('ready', (e) => {
      this.log.info(`Engine worker ready: backend ${backendText(e.backend)}, TensorFlow.js ${e.tfjsVersion}.`);
      for (const s of e.backend.skipped) this.log.warn(`Backend ${s.name} not used: ${s.reason}`);
      this.changes.fire({ kind: 'backend', backend: e.backend });
    });
    client.events.on('exit', (e) => {
      this.log.info(`Engine worker exited (code ${String(e.code)}, signal ${String(e.signal)}).`);
    });
    client.events.on('stderr', (text) => {
      for (const line of text.split('\n')) if (line.trim()) this.log.debug(`[worker] ${line}`);
    });
    this.client = client;
    return client;
  }

  get backend(): BackendReport | undefined {
    return this.client?.backend;
  }

  get activeModel(): RunInfo | undefined {
    return this.model;
  }

  /** The run folder remembered for this workspace (also before it is loaded again). */
  get rememberedRunDir(): string | undefined {
    return this.model?.runDir ?? this.context.workspaceState.get<string>(ACTIVE_RUN_KEY);
  }

  get rememberedFolder(): string | undefined {
    return this.lastShown?.folder ?? this.context.workspaceState.get<string>(SHOWN_FOLDER_KEY);
  }

  /** The folder shown last. */
  get shownEncoding(): Encoding | undefined {
    return this.lastShown;
  }

  /** Every folder shown, with the active model, in the order they were first shown. */
  get shownEncodings(): Encoding[] {
    return [...this.shown.values()];
  }

  /** The encoding of `folder` running now, if one is. */
  encodingOf(folder: string): Promise<Encoding | undefined> | undefined {
    return this.encoding.get(folder);
  }

  /** Keeps `run` as the encoding of `folder` running now, until it settles. */
  trackEncoding(folder: string, running: PromiseLike<Encoding | undefined>): Promise<Encoding | undefined> {
    const run = Promise.resolve(running);
    this.encoding.set(folder, run);
    const done = () => {
      if (this.encoding.get(folder) === run) this.encoding.delete(folder);
    };
    run.then(done, done);
    return run;
  }

  get training(): RunningTraining | undefined {
    return this.running;
  }

  /** The whole film of the run training now or of the active model, for a replay. */
  get film(): FilmMessage | null {
    return this.filmNow && { ...this.filmNow, replace: true };
  }

  /** Reads a run's film from its folder (none for an imported model or an older run) and shows it. */
  private async loadFilm(runDir: string): Promise<void> {
    let film: Film | null = null;
    try {
      film = await this.engine().request<'readFilm'>({ type: 'readFilm', runDir });
    } catch (e) {
      this.log.warn(`Could not read the latent film of ${runDir}: ${e instanceof Error ? e.message : String(e)}`);
    }
    // Another run may have become the one to show meanwhile.
    const current = this.running?.runDir ?? this.model?.runDir;
    if (current !== runDir) return;
    const frames = film?.frames ?? [];
    const known = this.filmNow?.runDir === runDir ? this.filmNow.frames : [];
    // Frames that arrived live while reading are kept.
    const merged = [...frames.filter((f) => !known.some((k) => k.epoch === f.epoch)), ...known].sort((a, b) => a.epoch - b.epoch);
    this.filmNow = film
      ? { type: 'film', runDir, replace: true, dims: film.dims, labels: film.labels, labelNames: film.labelNames, frames: merged }
      : { type: 'film', runDir, replace: true, dims: 0, labels: new Int32Array(0), labelNames: [], frames: [] };
    this.changes.fire({ kind: 'film', message: this.filmNow });
  }

  /** The run folder the ELBO series is of (training now, trained last or loaded). */
  get seriesRun(): string | undefined {
    return this.seriesRunDir;
  }

  setActiveModel(info: RunInfo): void {
    const changed = this.model?.runDir !== info.runDir;
    this.model = info;
    // Encodings belong to the model they were made with.
    if (changed) {
      for (const [folder, e] of this.shown) if (e.runDir !== info.runDir) this.shown.delete(folder);
      if (this.lastShown?.runDir !== info.runDir) this.lastShown = undefined;
    }
    void this.context.workspaceState.update(ACTIVE_RUN_KEY, info.runDir);
    void vscode.commands.executeCommand('setContext', 'latentAtlas.hasModel', true);
    this.changes.fire({ kind: 'model' });
    // A run that just trained keeps its live per-step series; another run shows its history.
    if (!this.running && this.seriesRunDir !== info.runDir) {
      this.seriesRunDir = info.runDir;
      const state = info.manifest.state === 'complete' ? 'complete' : 'cancelled';
      this.series.showHistory(info.manifest.name, info.history, state, info.manifest.training.epochs);
      this.changes.fire({ kind: 'series' });
    }
    if (!this.running && this.filmNow?.runDir !== info.runDir) void this.loadFilm(info.runDir);
  }

  /** Shows a folder's encoding beside the others (replacing that folder's); ignored unless it is the active model's. */
  showEncoding(encoding: Encoding): void {
    if (this.model && encoding.runDir !== this.model.runDir) return;
    this.shown.set(encoding.folder, encoding);
    this.lastShown = encoding;
    void this.context.workspaceState.update(SHOWN_FOLDER_KEY, encoding.folder);
    this.changes.fire({ kind: 'points', encoding });
  }

  /** The same folder's encoding with its ELBO terms, after its points were shown: only the figures change. */
  showTerms(encoding: Encoding): void {
    if (this.shown.get(encoding.folder)?.runDir !== encoding.runDir || !encoding.terms) return this.showEncoding(encoding);
    this.shown.set(encoding.folder, encoding);
    if (this.lastShown?.folder === encoding.folder) this.lastShown = encoding;
    this.changes.fire({ kind: 'terms', encoding });
  }

  beginTraining(t: RunningTraining, epochs: number): void {
    this.running = t;
    this.series.start(t.name, epochs);
    this.seriesRunDir = t.runDir;
    void vscode.commands.executeCommand('setContext', 'latentAtlas.training', true);
    this.changes.fire({ kind: 'series' });
  }

  /** Routes one engine event of the running training into the series and to listeners. */
  trainingEvent(e: EngineEvent): void {
    if (e.type === 'progress') {
      const { point, status } = this.series.progress(e);
      this.changes.fire({ kind: 'training', message: { type: 'step', point, status } });
    } else if (e.type === 'epoch') {
      const { summary, status } = this.series.epoch(e);
      this.changes.fire({ kind: 'training', message: { type: 'epoch', summary, status } });
    } else if (e.type === 'status') {
      const status = this.series.message(e.message);
      if (status) this.changes.fire({ kind: 'training', message: { type: 'status', status } });
    } else if (e.type === 'mapSubset') {
      this.filmNow = {
        type: 'film',
        runDir: e.runDir,
        replace: true,
        dims: e.dims,
        labels: e.labels,
        labelNames: e.labelNames,
        frames: [],
      };
      this.changes.fire({ kind: 'film', message: this.filmNow });
      // A resumed run: the frames stored before come from its folder.
      if (e.epochs.length > 0) void this.loadFilm(e.runDir);
    } else if (e.type === 'mapFrame' && this.filmNow?.runDir === e.runDir) {
      const frame = { epoch: e.epoch, mu: e.mu };
      this.filmNow.frames = [...this.filmNow.frames.filter((f) => f.epoch !== e.epoch), frame];
      this.changes.fire({ kind: 'film', message: { ...this.filmNow, replace: false, frames: [frame] } });
    }
  }

  endTraining(state: 'complete' | 'cancelled' | 'failed', message?: string): void {
    this.running = undefined;
    void vscode.commands.executeCommand('setContext', 'latentAtlas.training', false);
    const status = this.series.finish(state, message);
    if (status) this.changes.fire({ kind: 'training', message: { type: 'status', status } });
    if (this.restartWorkerWhenIdle) this.recycleWorker();
  }

  /** Forgets the worker so the next request starts one with the current settings. */
  private recycleWorker(): void {
    if (!this.client) return;
    if (this.running) {
      this.restartWorkerWhenIdle = true;
      this.log.info('Engine settings changed; they apply when the current training ends.');
      return;
    }
    this.restartWorkerWhenIdle = false;
    const old = this.client;
    this.client = undefined;
    void old.dispose();
    this.log.info('Engine settings changed; the next command starts a worker with them.');
  }
}
