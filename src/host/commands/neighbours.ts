// "Find Similar Images in the Latent Space" on an image file (explorer context menu, or the image
// open in the editor): the Latent Explorer shows the k encoded images nearest to it in the active
// model's full latent space — the file is encoded for the query when it is not encoded already.

import * as vscode from 'vscode';
import { IMAGE_EXTENSIONS } from '../../protocol/limits';
import type { CommandHost } from './host';

export async function findNeighboursCommand(host: CommandHost, uri?: vscode.Uri): Promise<void> {
  const target = uri ?? activeImage();
  if (!target || target.scheme !== 'file') {
    void vscode.window.showInformationMessage(
      'Right-click an image file in the Explorer and pick "Find Similar Images in the Latent Space".',
    );
    return;
  }
  const ext = target.fsPath.slice(target.fsPath.lastIndexOf('.')).toLowerCase();
  if (!(IMAGE_EXTENSIONS as readonly string[]).includes(ext)) {
    throw new Error(`${target.fsPath} is not an image the model can read (${IMAGE_EXTENSIONS.join(', ')}).`);
  }
  if (!(await host.model('Finding similar images'))) return;
  host.showExplorer().showNeighboursOf(target.fsPath);
}

/** The image open in the active editor tab (VS Code's image preview is a custom editor). */
function activeImage(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  return input instanceof vscode.TabInputCustom || input instanceof vscode.TabInputText ? input.uri : undefined;
}
