// VAE: Export for Embedding Projector — the shown folder's points, or every folder encoded with
// the model, as TSV tables with a sprite of thumbnails (made by the engine, where the images are
// read) and the configs TensorBoard and the standalone Projector read, under <run>/projector/.

import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import type { Encoding, RunInfo, SpriteResult } from '../../protocol/engine';
import { errorText, requireTrust, showEngineError } from '../feedback';
import {
  projectorEmbedding,
  projectorFolderNames,
  writeProjectorConfig,
  writeProjectorFiles,
  type ProjectorEmbedding,
} from '../projectorExport';
import type { CommandHost } from './host';

/** The folders to export: the shown one, one picked, or all; undefined when the person cancelled. */
async function pickFolders(host: CommandHost, model: RunInfo, shown: Encoding | undefined): Promise<string[] | undefined> {
  // The run's own list is fresher than the one loaded with the model (folders encoded since).
  const listed = await host.session
    .engine()
    .request<'loadRun'>({ type: 'loadRun', runDir: model.runDir })
    .then((info) => info.encodings)
    .catch(() => model.encodings);
  const folders = [...new Set([...(shown ? [shown.folder] : []), ...listed])];
  if (folders.length <= 1) return folders;
  type Item = vscode.QuickPickItem & { folders: string[] };
  const one = (folder: string): Item => ({
    label: `$(folder) ${basename(folder)}`,
    description: vscode.workspace.asRelativePath(folder),
    ...(folder === shown?.folder ? { detail: 'shown in the Latent Explorer' } : {}),
    folders: [folder],
  });
  const every: Item = {
    label: `$(files) Every encoded folder (${folders.length})`,
    detail: folders.map((f) => basename(f)).join(', '),
    folders,
  };
  const items = shown ? [one(shown.folder), every, ...folders.slice(1).map(one)] : [every, ...folders.map(one)];
  const choice = await vscode.window.showQuickPick(items, {
    title: `VAE: Export for Embedding Projector — "${model.manifest.name}"`,
    placeHolder: 'Which encoded folder? Each gets its vectors, labels and thumbnails.',
  });
  return choice?.folders;
}

export async function exportProjectorCommand(host: CommandHost): Promise<void> {
  if (!requireTrust('Exporting')) return;
  const model = await host.model('Exporting for the Embedding Projector');
  if (!model) return;
  const current = () => (host.session.shownEncoding?.runDir === model.runDir ? host.session.shownEncoding : undefined);
  let folders = await pickFolders(host, model, current());
  if (!folders) return;
  if (folders.length === 0) {
    const choice = await vscode.window.showWarningMessage(
      `Nothing encoded with "${model.manifest.name}" yet. Encode a folder first.`,
      'Encode a Folder',
    );
    if (choice) await vscode.commands.executeCommand('vae.encodeFolder');
    const shown = current();
    if (!shown) return;
    folders = [shown.folder];
  }
  const root = join(model.runDir, 'projector');
  const names = projectorFolderNames(folders);
  const engine = host.session.engine();
  try {
    const done = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Exporting for the Embedding Projector' },
      async (progress) => {
        const embeddings: ProjectorEmbedding[] = [];
        const dirs: string[] = [];
        let points = 0;
        for (const [i, folder] of folders.entries()) {
          progress.report({ message: `${basename(folder)} (${i + 1}/${folders.length})` });
          let encoding = current();
          try {
            // Another folder's points: brought up to date by the engine (unchanged files are re-used).
            if (encoding?.folder !== folder)
              encoding = await engine.request<'encodeFolder'>({ type: 'encodeFolder', runDir: model.runDir, folder });
          } catch (e) {
            host.log.warn(`Not exported: ${folder}: ${errorText(e)}`);
            continue;
          }
          const dir = join(root, names[i]!);
          await writeProjectorFiles(encoding, dir);
          let sprite: SpriteResult | undefined;
          try {
            sprite = await engine.request<'writeSprite'>(
              { type: 'writeSprite', runDir: model.runDir, files: encoding.files, path: join(dir, 'sprite.png') },
              (e) => e.type === 'warning' && host.log.warn(`Sprite: ${e.file ? `${e.file}: ` : ''}${e.reason}`),
            );
          } catch (e) {
            host.log.warn(`No thumbnails for ${folder}: ${errorText(e)}`);
          }
          await writeProjectorConfig(dir, [projectorEmbedding(encoding, '', sprite)]);
          embeddings.push(projectorEmbedding(encoding, names[i]!, sprite));
          dirs.push(dir);
          points += encoding.files.length;
          const thumbs = sprite ? `, sprite.png of ${sprite.width}×${sprite.height} thumbnails` : '';
          host.log.info(
            `Wrote ${encoding.files.length} vectors of ${encoding.dims} dimensions to ${dir} (vectors.tsv, metadata.tsv${thumbs}).`,
          );
        }
        // The run's projector folder as a TensorBoard log folder shows every folder exported now.
        if (embeddings.length > 1) await writeProjectorConfig(root, embeddings);
        return { embeddings, dirs, points };
      },
    );
    if (done.embeddings.length === 0) {
      void vscode.window.showErrorMessage('Nothing was exported: the encoded folders could not be read (see the log).');
      return;
    }
    const single = done.embeddings.length === 1;
    const dir = single ? done.dirs[0]! : root;
    await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(single ? join(dir, 'vectors.tsv') : dir));
    const what = single ? '' : ` of ${done.embeddings.length} folders`;
    const sprite = done.embeddings.every((e) => e.sprite) ? ' with sprite.png thumbnails' : '';
    void vscode.window.showInformationMessage(
      `Wrote vectors.tsv and metadata.tsv${what} (${done.points} points)${sprite} to ${vscode.workspace.asRelativePath(dir)}. ` +
        `Open it with "tensorboard --logdir ${vscode.workspace.asRelativePath(dir)}" (Projector tab), or load the files at projector.tensorflow.org.`,
    );
  } catch (e) {
    void showEngineError(e, host.log, 'Exporting');
  }
}
