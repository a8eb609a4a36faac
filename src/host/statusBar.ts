// The status bar item: active model, training state (epoch, −ELBO) and backend; a click opens
// the Latent Explorer.

import { basename } from 'node:path';
import * as vscode from 'vscode';
import { Disposable } from './disposable';
import type { Session } from './session';
import { backendLabel, backendText } from '../protocol/backendText';
import { settingsSummary } from '../protocol/runSettings';
import { epochCountText, formatNats, headlineText } from '../protocol/trainingFigures';

export class StatusBar extends Disposable {
  private readonly item = this.register(vscode.window.createStatusBarItem('latentAtlas.status', vscode.StatusBarAlignment.Left, 50));

  constructor(private readonly session: Session) {
    super();
    this.item.name = 'Latent Atlas';
    this.item.command = 'vae.openExplorer';
    this.register(session.onDidChange(() => this.update()));
    this.update();
  }

  private update(): void {
    const { session } = this;
    const training = session.training;
    const status = session.series.status;
    const report = session.backend;
    const backend = report && backendLabel(report);
    const model = session.activeModel?.manifest.name ?? (session.rememberedRunDir ? basename(session.rememberedRunDir) : undefined);
    // The same figure, named the same way, as the ELBO panel and the training notification.
    const figure = session.series.headline();
    const tip = new vscode.MarkdownString(undefined, true);
    tip.appendMarkdown('**Latent Atlas**\n\n');
    if (training && status) {
      const short = figure ? ` · −ELBO ${formatNats(-figure.terms.elbo)} (${figure.label})` : '';
      this.item.text = `$(sync~spin) VAE ${training.name}: epoch ${status.epoch}/${status.epochs}${short}`;
      tip.appendMarkdown(
        `Training **${training.name}**: epoch ${status.epoch} of ${status.epochs}, step ${status.step}, ${Math.round(status.imagesPerSecond)} images/s${figure ? `, ${headlineText(figure)} per image` : ''}.\n\n`,
      );
    } else if (model) {
      this.item.text = `$(graph-scatter) VAE ${model}`;
      // The series is the active model's once it is loaded, or the run that just trained.
      const own = status?.runName === model ? status : null;
      const counted = own && own.state !== 'complete' ? ` (${epochCountText(own)})` : '';
      const shown = own && figure ? `, ${headlineText(figure)} per image` : '';
      tip.appendMarkdown(`Active model **${model}**${counted}${shown}.\n\n`);
      const active = session.activeModel;
      // The same settings line as the Load Model picker and the Training view's comparison table.
      if (active) tip.appendMarkdown('Settings: ').appendText(settingsSummary(active.manifest)).appendMarkdown('\n\n');
    } else {
      this.item.text = '$(graph-scatter) VAE';
      tip.appendMarkdown('No model loaded: run "VAE: Train" or "VAE: Load Model".\n\n');
    }
    if (backend) this.item.text += ` · ${backend}`;
    tip.appendMarkdown(`Backend: ${report ? backendText(report) : 'starts with the first command'}. Click to open the Latent Explorer.`);
    this.item.tooltip = tip;
    this.item.show();
  }
}
