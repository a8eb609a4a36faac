// Messages a person can act on: no model → train or load; Restricted Mode → why and how to
// trust; engine failures → which one and what to do.

import * as vscode from 'vscode';
import { EngineError } from '../protocol/errors';

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** True when the workspace is trusted; otherwise explains why `what` needs trust and offers to manage it. */
export function requireTrust(what: string): boolean {
  if (vscode.workspace.isTrusted) return true;
  void vscode.window
    .showWarningMessage(
      `${what} is disabled in Restricted Mode: it runs the engine on files of this workspace and writes into it. ` +
        'You can still load saved runs and explore them. Trust the workspace to enable it.',
      'Manage Workspace Trust',
    )
    .then((choice) => choice && vscode.commands.executeCommand('workbench.trust.manage'));
  return false;
}

/** Tells that `what` needs a model and offers to train or load one. */
export async function offerModel(what: string): Promise<void> {
  const choice = await vscode.window.showWarningMessage(`${what} needs a model, and none is loaded.`, 'Train a Model', 'Load a Model');
  if (choice === 'Train a Model') await vscode.commands.executeCommand('vae.train');
  else if (choice === 'Load a Model') await vscode.commands.executeCommand('vae.loadModel');
}

/** Shows an engine failure in plain words with the action that helps. */
export async function showEngineError(e: unknown, log: vscode.LogOutputChannel, doing: string): Promise<void> {
  const message = errorText(e);
  log.error(`${doing} failed: ${message}`);
  if (!(e instanceof EngineError)) {
    void vscode.window.showErrorMessage(`${doing} failed: ${message}`);
    return;
  }
  switch (e.code) {
    case 'backend-unavailable': {
      // The engine's message names the missing package; add how to get it only when it does not.
      const how =
        /npm install/.test(message) || !/tfjs-node/.test(message)
          ? ''
          : ' Install it yourself (e.g. `npm install @tensorflow/tfjs-node-gpu@4.22.0` in a folder of your choice, with CUDA for the GPU one) and set "vae.nativeModulesPath" to that folder.';
      const choice = await vscode.window.showErrorMessage(`${message}${how} Or set "vae.backend" to "auto".`, 'Open Settings');
      if (choice) await vscode.commands.executeCommand('workbench.action.openSettings', 'vae.');
      return;
    }
    case 'out-of-memory':
    case 'worker-crashed': {
      const choice = await vscode.window.showErrorMessage(message, 'Show Log', 'Open Settings');
      if (choice === 'Show Log') log.show(true);
      else if (choice === 'Open Settings') await vscode.commands.executeCommand('workbench.action.openSettings', 'vae.batchSize');
      return;
    }
    default: {
      const choice = await vscode.window.showErrorMessage(message, 'Show Log');
      if (choice) log.show(true);
    }
  }
}
