// VAE: Encode Image Folder — encodes every image under a folder with the active model
// (incrementally: unchanged files are re-used), names each skipped file in the log, shows the
// points in the Latent Explorer beside the other folders' and sums up in a notification. The
// folders a run encoded before are shown again when the explorer opens (`showRunEncodings`).

import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import type { Encoding, EngineEvent, RunInfo } from '../../protocol/engine';
import { errorText, requireTrust, showEngineError } from '../feedback';
import type { Session } from '../session';
import type { CommandHost } from './host';

async function pickFolder(): Promise<string | undefined> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  const items = [
    ...folders.map((f) => ({ label: `$(folder) ${f.name}`, description: f.uri.fsPath, path: f.uri.fsPath as string | undefined })),
    { label: '$(folder-opened) Choose a folder…', description: '', path: undefined },
  ];
  const choice = await vscode.window.showQuickPick(items, {
    title: 'VAE: Encode Image Folder',
    placeHolder: 'Which folder of images? (Tip: right-click a folder in the Explorer.)',
  });
  if (!choice) return undefined;
  if (choice.path) return choice.path;
  const picked = await vscode.window.showOpenDialog({
    canSelectFolders: true,
    canSelectFiles: false,
    openLabel: 'Encode this folder',
    defaultUri: folders[0]?.uri,
  });
  return picked?.[0]?.fsPath;
}

/** How a person calls the folder: its workspace folder's name, or its path relative to the workspace. */
export function folderLabel(folder: string): string {
  const root = (vscode.workspace.workspaceFolders ?? []).find((f) => f.uri.fsPath === folder);
  return root ? root.name : vscode.workspace.asRelativePath(folder);
}

type Progress = vscode.Progress<{ message?: string; increment?: number }>;

/**
 * Encodes `folder` with `model` (incrementally), logs what was skipped and shows the points beside
 * the other folders'. Undefined when it failed (said by `failed`) or was cancelled.
 */
async function encodeShown(
  session: Session,
  model: RunInfo,
  folder: string,
  progress: Progress,
  token: vscode.CancellationToken,
  failed: (e: unknown) => void,
  onPoints?: () => void,
): Promise<Encoding | undefined> {
  const { log } = session;
  const engine = session.engine();
  const warned = new Set<string>();
  const logSkipped = (file: string | undefined, reason: string) => {
    const key = `${file ?? ''}\u0000${reason}`;
    if (warned.has(key)) return;
    warned.add(key);
    log.warn(file ? `Skipped ${file}: ${reason}` : reason);
  };
  let lastPercent = 0;
  // The posteriors take the first 40 % of the bar when each image's ELBO terms follow them (the
  // decoder's pass), all of it otherwise.
  let points: Encoding | undefined;
  const onEvent = (e: EngineEvent) => {
    if (e.type === 'warning') logSkipped(e.file, e.reason);
    else if (e.type === 'encodedPoints') {
      // The map first; the figures fill in when the terms come.
      points = e.encoding;
      session.showEncoding(e.encoding);
      onPoints?.();
    } else if (e.type === 'status') {
      const share = points ? [40, 60] : [0, 100];
      const percent = e.total ? share[0]! + ((e.done ?? 0) / e.total) * share[1]! : lastPercent;
      // The title names the folder already; a counted line says how far it is.
      const count = e.total ? `${(e.done ?? 0).toLocaleString('en-US')} / ${e.total.toLocaleString('en-US')} images` : '';
      const message = !count ? e.message : points ? `each image's ELBO terms: ${count}` : count;
      progress.report({ message, increment: Math.max(0, percent - lastPercent) });
      lastPercent = Math.max(lastPercent, percent);
    }
  };
  const { id, result } = engine.begin<'encodeFolder'>({ type: 'encodeFolder', runDir: model.runDir, folder, incremental: true }, onEvent);
  token.onCancellationRequested(() => void engine.cancel(id));
  let encoding: Encoding;
  try {
    encoding = await result;
  } catch (e) {
    failed(e);
    return undefined;
  }
  for (const p of encoding.skipped) logSkipped(p.file, p.reason);
  log.info(
    `Encoded ${folder}: ${encoding.files.length} images (${encoding.encoded} encoded now, ${encoding.reused} re-used), ${encoding.skipped.length} skipped.`,
  );
  if (points) session.showTerms(encoding);
  else {
    session.showEncoding(encoding);
    onPoints?.();
  }
  return encoding;
}

/** Encodes `folder` with the active model; shows the points. Returns the encoding, or undefined. */
export async function encodeFolder(host: CommandHost, folder: string, quiet = false): Promise<Encoding | undefined> {
  const { session, log } = host;
  const model = await host.model('Encoding a folder');
  if (!model) return undefined;
  // The same folder being encoded already (its points restored as the explorer opened): after it, this re-uses all of it.
  await session.encodingOf(folder);
  const run = vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: `Encoding ${folderLabel(folder)} with "${model.manifest.name}"`,
      cancellable: true,
    },
    (progress, token) =>
      encodeShown(
        session,
        model,
        folder,
        progress,
        token,
        (e) => void showEngineError(e, log, `Encoding ${folder}`),
        () => host.showExplorer(true),
      ),
  );
  const encoding = await session.trackEncoding(folder, run);
  if (!encoding) return undefined;
  if (!quiet) {
    const count = encoding.files.length;
    const skippedNote = encoding.skipped.length
      ? ` ${encoding.skipped.length} file${encoding.skipped.length === 1 ? '' : 's'} skipped (named in the log).`
      : '';
    const reuseNote = encoding.reused ? ` (${encoding.encoded} new or changed, ${encoding.reused} re-used)` : '';
    const actions = encoding.skipped.length ? ['Show Log'] : [];
    void vscode.window
      .showInformationMessage(`Encoded ${count} images from ${folderLabel(folder)}${reuseNote}.${skippedNote}`, ...actions)
      .then((c) => c && log.show(true));
  }
  return encoding;
}

/** Folders whose restoring failed, per run: not tried again every time the explorer opens. */
const notRestored = new Map<string, Set<string>>();

/**
 * Shows every folder the active run has encoded (its `encodings/`) that is not shown yet, one after
 * another, in the status bar: incremental, so a folder whose images did not change is only read.
 */
export async function showRunEncodings(session: Session): Promise<void> {
  const model = session.activeModel;
  if (!model || !vscode.workspace.isTrusted) return;
  const failed = notRestored.get(model.runDir) ?? new Set<string>();
  notRestored.set(model.runDir, failed);
  const shown = new Set(session.shownEncodings.map((e) => e.folder));
  const missing = model.encodings.filter((f) => !shown.has(f) && !failed.has(f) && !session.encodingOf(f) && existsSync(f));
  for (const folder of missing) {
    if (session.activeModel?.runDir !== model.runDir) return;
    if (session.encodingOf(folder) || session.shownEncodings.some((e) => e.folder === folder)) continue;
    const run = vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: `Showing ${folderLabel(folder)}` },
      (progress, token) =>
        encodeShown(session, model, folder, progress, token, (e) => {
          failed.add(folder);
          session.log.warn(`Could not show ${folder} again: ${errorText(e)}`);
        }),
    );
    await session.trackEncoding(folder, run);
  }
}

export async function encodeFolderCommand(host: CommandHost, uri?: vscode.Uri): Promise<void> {
  if (!requireTrust('Encoding a folder')) return;
  if (!(await host.model('Encoding a folder'))) return;
  const folder = uri?.fsPath ?? (await pickFolder());
  if (!folder) return;
  await encodeFolder(host, folder);
}
