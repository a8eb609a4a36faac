// "Export…" in the Latent Explorer: the selected points (or every point shown) as file paths on
// the clipboard, as a CSV table (the engine writes it from the encodings: μ, log σ², ELBO terms,
// plus where the map drew each point), or as copies of the original images in a new folder. Tables
// and copies go to `<vae.samplesFolder>/<run>/selections/selection-NNN(.csv|/)`, never overwriting.

import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import type { EngineClient } from '../../client/engineClient';
import type { ExportSelectionMessage } from '../../protocol/webview';
import { copySelection, nextSelectionName, pathList, selectedFiles } from '../selectionFiles';
import type { Session } from '../session';
import { samplesDir } from '../workspacePaths';

/** What was done, for the explorer to say, and what to reveal; undefined when the person cancelled. */
export interface ExportOutcome {
  text: string;
  reveal?: string;
}

type Choice = 'paths' | 'csv' | 'images';

const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString()} ${n === 1 ? one : many}`;

export async function exportSelection(
  session: Session,
  engine: EngineClient,
  m: ExportSelectionMessage,
): Promise<ExportOutcome | undefined> {
  const model = session.activeModel;
  if (!model) throw new Error('No model is loaded. Run "VAE: Train" or "VAE: Load Model" first.');
  const shown = new Map(session.shownEncodings.map((e) => [e.folder, new Set(e.files)] as const));
  const parts = selectedFiles(m.parts, shown);
  const count = parts.reduce((n, p) => n + p.files.length, 0);
  if (count === 0) throw new Error('Nothing to export: the selection holds no shown points.');
  const what = m.selection ? `the ${plural(count, 'selected point')}` : `the ${plural(count, 'point')} shown`;
  const root = samplesDir(model.manifest.name, dirname(model.runDir));
  const target = root ? join(root, 'selections') : undefined;
  const where = target ? vscode.workspace.asRelativePath(target) : 'the workspace';
  const items: (vscode.QuickPickItem & { choice: Choice })[] = [
    { choice: 'paths', label: `$(copy) Copy ${plural(count, 'file path')}`, detail: 'Absolute paths, one per line, to the clipboard' },
    {
      choice: 'csv',
      label: `$(table) Save ${plural(count, 'row')} as CSV`,
      detail: `file, folder, label, map_x/map_y (${m.axes.join(', ')}), z, log σ², reconstruction, KL, ELBO, mean σ → ${where}`,
    },
    {
      choice: 'images',
      label: `$(files) Copy ${plural(count, 'image')} into a new folder`,
      detail: `The original files, never overwriting → ${where}`,
    },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: `Export ${what}`, placeHolder: 'How?' });
  if (!picked) return undefined;

  if (picked.choice === 'paths') {
    await vscode.env.clipboard.writeText(pathList(parts));
    return { text: `Copied ${plural(count, 'file path')} to the clipboard` };
  }
  if (!vscode.workspace.isTrusted) throw new Error('Exporting files is disabled in Restricted Mode. Trust this workspace to write files.');
  if (!target) throw new Error('Open a folder in VS Code first: exports are written into the workspace.');
  const names = await nextSelectionName(target);

  if (picked.choice === 'csv') {
    const r = await engine.request<'exportCsv'>({
      type: 'exportCsv',
      runDir: model.runDir,
      parts: m.parts.map((p) => ({ folder: p.folder, names: p.names, coords: p.coords })),
      path: names.csv,
    });
    session.log.info(`Exported ${r.rows} rows (${what}) to ${r.path}; map_x/map_y are ${m.axes.join(', ')}.`);
    return { text: `Saved ${plural(r.rows, 'row')} to ${vscode.workspace.asRelativePath(r.path)}`, reveal: r.path };
  }

  const r = await copySelection(parts, names.folder);
  for (const f of r.failed) session.log.warn(`Not copied ${f.file}: ${f.reason}`);
  session.log.info(`Copied ${r.copied} images (${what}) to ${r.folder}.`);
  const failed = r.failed.length ? ` (${plural(r.failed.length, 'file')} could not be copied: see the "Latent Atlas" output)` : '';
  return { text: `Copied ${plural(r.copied, 'image')} to ${vscode.workspace.asRelativePath(r.folder)}${failed}`, reveal: r.folder };
}
