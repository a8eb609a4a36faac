// The Latent Explorer panel (one at a time): renders the webview page with a nonce CSP, waits for
// the webview's `ready` before posting, replays the model, points (every folder shown) and ELBO
// series on ready and whenever the panel becomes visible again, shows the folders the run encoded
// before, and answers the webview's requests through the engine.

import { randomBytes } from 'node:crypto';
import { basename, dirname, join, relative, sep } from 'node:path';
import * as vscode from 'vscode';
import type { Encoding } from '../protocol/engine';
import { packNames, type PackedNames } from '../protocol/pointNames';
import {
  pointUri,
  type FromWebviewMessage,
  type ModelInfo,
  type NeighboursOfMessage,
  type PointFile,
  type PointsMessage,
  type ToWebviewMessage,
} from '../protocol/webview';
import { Disposable } from './disposable';
import { errorText } from './feedback';
import { isInside, readRunEpochs } from './runs';
import type { Session } from './session';
import { webviewHtml } from './webviewHtml';
import { folderLabel, showRunEncodings } from './commands/encode';
import { exportSelection } from './commands/exportSelection';
import { workspaceRuns } from './commands/model';
import { saveTarget } from './savedImages';
import { samplesDir } from './workspacePaths';

export const EXPLORER_VIEW_TYPE = 'latentAtlas.explorer';

/** Each point's name relative to its folder, packed once per encoding (a replay posts them again). */
const namesOf = new WeakMap<Encoding, PackedNames>();
function pointNames(e: Encoding): PackedNames {
  let names = namesOf.get(e);
  if (!names) namesOf.set(e, (names = packNames(e.files.map((f) => relative(e.folder, f).split(sep).join('/')))));
  return names;
}

export class ExplorerPanel extends Disposable {
  private static current: ExplorerPanel | undefined;
  private ready = false;
  private readonly roots = new Set<string>();
  /** Files this panel saved: the only ones it reveals when the webview asks. */
  private readonly saved = new Set<string>();
  /** Image files the host asked the webview to find neighbours of: the only files outside the points shown it queries. */
  private readonly offered = new Set<string>();
  /** A "Find Similar Images" asked before the page was ready: posted once it is. */
  private pendingQuery: NeighboursOfMessage | null = null;
  /** Run folders this panel listed: the only ones whose figures it reads when the webview asks. */
  private listedRuns = new Set<string>();

  /** Shows the panel (creating it when there is none). */
  static show(context: vscode.ExtensionContext, session: Session, preserveFocus = false): ExplorerPanel {
    if (ExplorerPanel.current) {
      ExplorerPanel.current.panel.reveal(undefined, preserveFocus);
      return ExplorerPanel.current;
    }
    const panel = vscode.window.createWebviewPanel(
      EXPLORER_VIEW_TYPE,
      'Latent Explorer',
      { viewColumn: vscode.ViewColumn.Active, preserveFocus },
      { enableScripts: true, retainContextWhenHidden: false },
    );
    return (ExplorerPanel.current = new ExplorerPanel(panel, context, session));
  }

  /** Takes over a panel VS Code restored after a reload. */
  static revive(panel: vscode.WebviewPanel, context: vscode.ExtensionContext, session: Session): ExplorerPanel {
    ExplorerPanel.current?.dispose();
    return (ExplorerPanel.current = new ExplorerPanel(panel, context, session));
  }

  static get isOpen(): boolean {
    return ExplorerPanel.current !== undefined;
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly context: vscode.ExtensionContext,
    private readonly session: Session,
  ) {
    super();
    this.register(panel);
    panel.iconPath = vscode.Uri.joinPath(context.extensionUri, 'media', 'icon.png');
    for (const f of vscode.workspace.workspaceFolders ?? []) this.roots.add(f.uri.fsPath);
    this.updateOptions();
    const nonce = randomBytes(16).toString('hex');
    const asset = (name: string) => panel.webview.asWebviewUri(vscode.Uri.joinPath(context.extensionUri, 'dist', name)).toString();
    panel.webview.html = webviewHtml({
      scriptUri: asset('webview.js'),
      styleUri: asset('webview.css'),
      cspSource: panel.webview.cspSource,
      nonce,
    });

    this.register(panel.onDidDispose(() => this.dispose()));
    this.register(panel.webview.onDidReceiveMessage((m: FromWebviewMessage) => void this.onMessage(m)));
    this.register(
      panel.onDidChangeViewState(() => {
        // Without retainContextWhenHidden a hidden page is discarded; shown again it reloads and
        // says ready itself. The replay here covers a page that stayed alive (moved, re-focused).
        if (!panel.visible) this.ready = false;
        else if (this.ready) this.replay();
      }),
    );
    this.register(
      session.onDidChange((c) => {
        if (!this.ready) return;
        if (c.kind === 'model') {
          this.post(this.initMessage());
          // Points encoded with another model do not belong to this one: the session dropped them.
          this.replayPoints();
          void showRunEncodings(this.session);
          void this.postRuns();
        } else if (c.kind === 'points') this.post(this.pointsMessage(c.encoding));
        else if (c.kind === 'terms') this.post({ type: 'pointTerms', folder: c.encoding.folder, terms: c.encoding.terms! });
        else if (c.kind === 'training') this.post(c.message);
        else if (c.kind === 'series') {
          this.post(this.session.series.replay());
          void this.postRuns();
        } else if (c.kind === 'backend') this.post({ type: 'backend', backend: c.backend });
        else if (c.kind === 'film') this.post(c.message);
      }),
    );
  }

  /** Shows the neighbours of an image file: pinned when it is a point shown, else as a query of its own. */
  showNeighboursOf(file: string): void {
    const shown = this.session.shownEncodings.find((e) => e.files.includes(file));
    const point = shown ? { folder: shown.folder, name: relative(shown.folder, file).split(sep).join('/') } : null;
    const uri = this.fileUri(file);
    this.offered.add(file);
    const msg: NeighboursOfMessage = { type: 'neighboursOf', file, uri, point };
    if (this.ready) this.post(msg);
    else this.pendingQuery = msg;
  }

  override dispose(): void {
    if (ExplorerPanel.current === this) ExplorerPanel.current = undefined;
    super.dispose();
  }

  private updateOptions(): void {
    const ext = this.context.extensionUri;
    this.panel.webview.options = {
      enableScripts: true,
      localResourceRoots: [
        vscode.Uri.joinPath(ext, 'dist'),
        vscode.Uri.joinPath(ext, 'media'),
        ...[...this.roots].map((r) => vscode.Uri.file(r)),
      ],
    };
  }

  private post(message: ToWebviewMessage): void {
    void this.panel.webview.postMessage(message);
  }

  private replay(): void {
    this.post(this.initMessage());
    if (this.session.backend) this.post({ type: 'backend', backend: this.session.backend });
    this.replayPoints();
    this.post(this.session.series.replay());
    const film = this.session.film;
    if (film) this.post(film);
    void this.postRuns();
  }

  /** The workspace's runs with epochs, for the Training view's Compare control. */
  private async postRuns(): Promise<void> {
    try {
      const current = this.session.seriesRun;
      const runs = (await workspaceRuns())
        .filter((r) => !r.imported && r.epochsCompleted > 0)
        .map((r) => ({
          runDir: r.runDir,
          name: r.name,
          settings: r.settings,
          ...(r.runDir === current ? { current: true as const } : {}),
        }));
      this.listedRuns = new Set(runs.map((r) => r.runDir));
      this.post({ type: 'runs', runs });
    } catch (e) {
      this.session.log.warn(`Listing the workspace's runs failed: ${errorText(e)}`);
    }
  }

  /** Another run's per-epoch figures, read from its folder. */
  private async compareRun(requestId: number, runDir: string): Promise<void> {
    const found = this.listedRuns.has(runDir) ? await readRunEpochs(runDir) : null;
    if (!found) {
      this.post({ type: 'error', requestId, message: `${runDir} has no completed epoch to compare (run.json and history.jsonl).` });
      return;
    }
    this.post({ type: 'comparedRun', requestId, run: { runDir, ...found } });
  }

  /** Every folder shown: the first replaces whatever the page shows, the others join it. */
  private replayPoints(): void {
    const shown = this.session.shownEncodings;
    if (shown.length === 0) this.post(this.emptyPoints());
    shown.forEach((e, i) => this.post(this.pointsMessage(e, i === 0 ? 'all' : 'folder')));
  }

  private initMessage(): ToWebviewMessage {
    const info = this.session.activeModel;
    let model: ModelInfo | null = null;
    if (info) {
      const m = info.manifest;
      model = {
        runName: m.name,
        runDir: info.runDir,
        latentSize: m.model.latentSize,
        width: m.preprocessing.width,
        height: m.preprocessing.height,
        channels: m.preprocessing.channels,
        likelihood: m.model.likelihood,
        conditional: m.model.conditional,
        labels: m.labels,
      };
    }
    return { type: 'init', model, backend: this.session.backend ?? null };
  }

  private emptyPoints(): PointsMessage {
    return {
      type: 'points',
      replace: 'all',
      folder: '',
      folderUri: '',
      names: packNames([]),
      labels: new Int32Array(0),
      labelNames: [],
      dims: this.session.activeModel?.manifest.model.latentSize ?? 2,
      mu: new Float32Array(0),
    };
  }

  /** A folder's webview URI; its images are shown (hover, thumbnails), so it becomes a resource root. */
  private folderUri(folder: string): string {
    if (![...this.roots].some((r) => isInside(r, folder))) {
      this.roots.add(folder);
      this.updateOptions();
    }
    return this.panel.webview.asWebviewUri(vscode.Uri.file(folder)).toString();
  }

  private pointsMessage(e: Encoding, replace: 'all' | 'folder' = 'folder'): PointsMessage {
    return {
      type: 'points',
      replace,
      folder: e.folder,
      title: folderLabel(e.folder),
      folderUri: this.folderUri(e.folder),
      names: pointNames(e),
      labels: e.labels,
      labelNames: e.labelNames,
      dims: e.dims,
      mu: e.mu,
      terms: e.terms,
      meanSigma: e.meanSigma,
    };
  }

  /** Any image file's webview URI (its folder becomes a resource root), escaped as a point's is. */
  private fileUri(file: string): string {
    return pointUri(this.folderUri(dirname(file)), basename(file));
  }

  /** The absolute path of a shown point's file; null when the webview names a file that is not shown. */
  private shownFile(p: PointFile): string | null {
    const shown = this.session.shownEncodings.find((e) => e.folder === p.folder);
    if (!shown) return null;
    const file = join(shown.folder, ...p.name.split('/'));
    return shown.files.includes(file) ? file : null;
  }

  private async onMessage(m: FromWebviewMessage): Promise<void> {
    if (m.type === 'ready') {
      this.ready = true;
      this.replay();
      void showRunEncodings(this.session);
      if (this.pendingQuery) this.post(this.pendingQuery);
      this.pendingQuery = null;
      return;
    }
    if (m.type === 'listRuns') return this.postRuns();
    if (m.type === 'compareRun') return this.compareRun(m.requestId, m.runDir);
    if (m.type === 'stopTraining') {
      await vscode.commands.executeCommand('vae.stopTraining');
      return;
    }
    if (m.type === 'revealFile') {
      if (this.saved.has(m.file)) await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(m.file));
      return;
    }
    if (m.type === 'openFile') {
      const file = this.shownFile(m);
      // Beside the explorer, not over it; the keyboard stays with the explorer.
      const beside: vscode.TextDocumentShowOptions = { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true };
      if (file) await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(file), beside);
      return;
    }
    const requestId = m.requestId;
    try {
      const model = this.session.activeModel;
      if (!model) throw new Error('No model is loaded. Run "VAE: Train" or "VAE: Load Model" first.');
      const engine = this.session.engine();
      const runDir = model.runDir;
      switch (m.type) {
        case 'decode': {
          const images = await engine.request<'decode'>({
            type: 'decode',
            runDir,
            latents: m.latents,
            ...(m.label !== undefined ? { labels: [m.label] } : {}),
          });
          this.post({ type: 'images', requestId, images });
          break;
        }
        case 'sample': {
          const r = await engine.request<'sample'>({
            type: 'sample',
            runDir,
            count: m.count,
            mode: m.mode,
            seed: Math.floor(Math.random() * 2 ** 31),
          });
          this.post({ type: 'images', requestId, images: r.images, latents: r.latents });
          break;
        }
        case 'reconstruct': {
          const file = this.shownFile(m);
          if (!file) throw new Error(`${m.name} is not one of the points shown: encode its folder first.`);
          const result = await engine.request<'reconstruct'>({ type: 'reconstruct', runDir, files: [file] });
          this.post({ type: 'reconstruction', requestId, name: m.name, result });
          break;
        }
        case 'findNeighbours': {
          const file = m.file !== undefined ? (this.offered.has(m.file) ? m.file : null) : this.shownFile(m);
          if (!file) throw new Error(`${m.file ?? m.name} is not one of the points shown: encode its folder first.`);
          const r = await engine.request<'neighbours'>({ type: 'neighbours', runDir, file, k: m.k, metric: m.metric });
          const neighbours = r.neighbours.map((n) => ({
            folder: n.folder,
            folderUri: this.folderUri(n.folder),
            name: relative(n.folder, n.file).split(sep).join('/'),
            label: n.label,
            distance: n.distance,
          }));
          const query = m.file !== undefined ? { file, uri: this.fileUri(file), mu: Array.from(r.mu) } : undefined;
          this.post({
            type: 'neighbours',
            requestId,
            folder: m.folder,
            name: m.name,
            k: m.k,
            metric: m.metric,
            neighbours,
            ...(query ? { query } : {}),
          });
          break;
        }
        case 'project': {
          const shown = this.session.shownEncodings.find((e) => e.folder === m.folder);
          if (!shown) throw new Error(`No points of ${m.folder} to project: encode the folder first ("VAE: Encode Image Folder").`);
          // The layout as it converges, at most five times a second, then the final one.
          let shownAt = 0;
          const r = await engine.request<'project'>(
            { type: 'project', runDir: shown.runDir, folder: shown.folder, method: m.method, seed: 42 },
            (e) => {
              if (e.type !== 'layout' || e.epoch === e.epochs || Date.now() - shownAt < 200) return;
              shownAt = Date.now();
              this.post({ type: 'projection', requestId, coords: e.coords, partial: true });
            },
          );
          this.post({ type: 'projection', requestId, coords: r.coords });
          break;
        }
        case 'saveImages': {
          if (!vscode.workspace.isTrusted)
            throw new Error('Saving images is disabled in Restricted Mode. Trust this workspace to write files.');
          const root = samplesDir(model.manifest.name, dirname(runDir));
          if (!root) throw new Error('Open a folder in VS Code first: images are saved into the workspace.');
          // Interpolations, samples, traversals and grids each in their own folder, as numbered sets.
          const target = saveTarget(m.baseName, m.latents.length / model.manifest.model.latentSize, root, m.rows);
          const { files, sheet } = await engine.request<'writeDecoded'>({
            type: 'writeDecoded',
            runDir,
            latents: m.latents,
            ...(m.label !== undefined ? { labels: [m.label] } : {}),
            ...target,
          });
          const written = sheet ? [sheet, ...files] : files;
          this.session.log.info(`Saved ${written.length} images to ${target.dir}.`);
          for (const f of written) this.saved.add(f);
          // The explorer says so itself, with a way to reveal the folder.
          this.post({ type: 'saved', requestId, files: written, folder: vscode.workspace.asRelativePath(target.dir) });
          break;
        }
        case 'exportSelection': {
          const done = await exportSelection(this.session, engine, m);
          if (!done) break;
          if (done.reveal) this.saved.add(done.reveal);
          this.post({ type: 'exported', requestId, ...done });
          break;
        }
      }
    } catch (e) {
      const message = errorText(e);
      this.session.log.warn(`Latent Explorer request ${m.type} failed: ${message}`);
      this.post({ type: 'error', requestId, message });
    }
  }
}
