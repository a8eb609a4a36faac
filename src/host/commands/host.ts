// What every command needs: the extension context, the session, the log, and the model getter
// that offers to train or load when there is none.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MODEL_MANIFEST_FILE } from '../../protocol/importedModel';
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
    const m = info.manifest;
    this.log.info(
      m.imported
        ? `Active model: ${m.name} (${runDir}), trained elsewhere (${m.imported.format === 'onnx' ? 'ONNX' : 'tfjs'}), latent size ${m.model.latentSize}.`
        : `Active model: ${m.name} (${runDir}), ${m.epochsCompleted} epochs, state ${m.state}.`,
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
    if (remembered && (existsSync(join(remembered, 'run.json')) || existsSync(join(remembered, MODEL_MANIFEST_FILE)))) {
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
