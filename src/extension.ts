// Activation registers commands, the panel serializer and the status bar — nothing heavy: the
// engine worker (TensorFlow.js) starts with the first command that needs it and stops with us.

import * as vscode from 'vscode';
import { CommandHost } from './host/commands/host';
import { encodeFolder, encodeFolderCommand } from './host/commands/encode';
import {
  exportOnnxCommand,
  loadModelCommand,
  loadRunFolderCommand,
  openExplorerCommand,
  sampleCommand,
  type SampleOptions,
} from './host/commands/model';
import { findNeighboursCommand } from './host/commands/neighbours';
import { exportProjectorCommand } from './host/commands/projector';
import { stopTrainingCommand, trainCommand, type TrainOptions } from './host/commands/train';
import { EXPLORER_VIEW_TYPE, ExplorerPanel } from './host/explorerPanel';
import { errorText } from './host/feedback';
import { Session } from './host/session';
import { StatusBar } from './host/statusBar';

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('Latent Atlas', { log: true });
  const version = (context.extension.packageJSON as { version?: string }).version ?? '?';
  log.info(
    `Latent Atlas ${version} activated (VS Code ${vscode.version}, Node ${process.versions.node}, ${process.platform}-${process.arch}).`,
  );
  const session = new Session(context, log);
  const host = new CommandHost(context, session, log);
  context.subscriptions.push(log, session, new StatusBar(session));

  const commands: Record<string, (...args: never[]) => Promise<void> | void> = {
    'vae.train': (uri?: vscode.Uri, options?: TrainOptions) => trainCommand(host, uri, options),
    // The explorer context menu's titles say what they do on the folder right-clicked; the
    // palette keeps "VAE: Train" and "VAE: Encode Image Folder" (a title belongs to a command id).
    'vae.trainFolder': (uri?: vscode.Uri) => trainCommand(host, uri),
    'vae.stopTraining': () => stopTrainingCommand(host),
    'vae.loadModel': () => loadModelCommand(host),
    'vae.loadRunFolder': (uri?: vscode.Uri) => loadRunFolderCommand(host, uri),
    'vae.encodeFolder': (uri?: vscode.Uri) => encodeFolderCommand(host, uri),
    'vae.encodeFolderFromExplorer': (uri?: vscode.Uri) => encodeFolderCommand(host, uri),
    'vae.openExplorer': () => openExplorerCommand(host),
    'vae.sample': (uri?: vscode.Uri, options?: SampleOptions) => sampleCommand(host, uri, options),
    'vae.exportProjector': () => exportProjectorCommand(host),
    'vae.exportOnnx': () => exportOnnxCommand(host),
    'vae.findNeighbours': (uri?: vscode.Uri) => findNeighboursCommand(host, uri),
    'vae.showLog': () => log.show(),
  };
  for (const [id, run] of Object.entries(commands)) {
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async (...args: never[]) => {
        try {
          await run(...args);
        } catch (e) {
          log.error(`${id} failed: ${errorText(e)}`);
          void vscode.window.showErrorMessage(`Latent Atlas: ${errorText(e)}`);
        }
      }),
    );
  }

  context.subscriptions.push(
    vscode.window.registerWebviewPanelSerializer(EXPLORER_VIEW_TYPE, {
      async deserializeWebviewPanel(panel) {
        ExplorerPanel.revive(panel, context, session);
        // Bring back the model and the points the panel showed before the reload.
        const model = await host.model(null).catch(() => undefined);
        const folder = session.rememberedFolder;
        if (model && folder && model.encodings.includes(folder) && vscode.workspace.isTrusted) {
          await encodeFolder(host, folder, true).catch((e) => log.warn(`Could not show ${folder} again: ${errorText(e)}`));
        }
      },
    }),
  );
}

export function deactivate(): void {
  // Everything, the engine worker included, is disposed through context.subscriptions.
}
