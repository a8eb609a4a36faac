// Where things go in the workspace: the run location and the samples folder, from settings.

import { join } from 'node:path';
import * as vscode from 'vscode';
import { isInside, runRoot } from './runs';
import { readSettings, type HostSettings } from './settings';

export function currentSettings(): HostSettings {
  return readSettings((k) => vscode.workspace.getConfiguration('vae').get(k));
}

/** The workspace folder holding `path`, else the first one; undefined when none is open. */
export function workspaceFolderFor(path?: string): string | undefined {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (path) {
    const holding = folders.find((f) => isInside(f.uri.fsPath, path));
    if (holding) return holding.uri.fsPath;
  }
  return folders[0]?.uri.fsPath;
}

/** The run location of the workspace folder holding `near` (default `<folder>/.vae`). */
export function runLocation(near?: string): string | undefined {
  const folder = workspaceFolderFor(near);
  return folder ? runRoot(folder, currentSettings().runFolder) : undefined;
}

/** Every configured run location, one per workspace folder. */
export function allRunLocations(): string[] {
  const runFolder = currentSettings().runFolder;
  return (vscode.workspace.workspaceFolders ?? []).map((f) => runRoot(f.uri.fsPath, runFolder));
}

/** `<workspace folder>/<vae.samplesFolder>/<run name>/` for the folder nearest `near`. */
export function samplesDir(runName: string, near?: string): string | undefined {
  const folder = workspaceFolderFor(near);
  return folder ? join(folder, currentSettings().samplesFolder, runName) : undefined;
}
