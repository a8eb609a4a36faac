// What every command needs: the extension context, the session, the log, and the model getter
// that offers to train or load when there is none.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { RunInfo } from '../../protocol/engine';
import { ExplorerPanel } from '../explorerPanel';
import { errorText, offerModel } from '../feedback';
import type { Session } from '../session';

export class CommandHost {
  constructor(
    readonly context: vscode.ExtensionContext,
    readonly session: Session,
    readonly log: vscode.LogOutputChannel,
  ) {}

  showExplorer(preserveFocus = false): ExplorerPanel {
    return ExplorerPanel.show(this.context, this.session, preserveFocus);
  }

  /** Loads a run folder through the engine and makes it the active model. */
  async loadRun(runDir: string): Promise<RunInfo> {
    const info = await this.session.engine().request<'loadRun'>({ type: 'loadRun', runDir });
    this.session.setActiveModel(info);
    this.log.info(
      `Active model: ${info.manifest.name} (${runDir}), ${info.manifest.epochsCompleted} epochs, state ${info.manifest.state}.`,
    );
    return info;
  }

  /**
   * The active model; else the one remembered for this workspace, loaded again; else undefined
   * after offering to train or load one (`what` names what needs it).
   */
  async model(what: string | null): Promise<RunInfo | undefined> {
    if (this.session.activeModel) return this.session.activeModel;
    const remembered = this.session.rememberedRunDir;
    if (remembered && existsSync(join(remembered, 'run.json'))) {
      try {
        return await this.loadRun(remembered);
      } catch (e) {
        this.log.warn(`Could not load the last model ${remembered}: ${errorText(e)}`);
      }
    }
    if (what) void offerModel(what);
    return undefined;
  }
}
