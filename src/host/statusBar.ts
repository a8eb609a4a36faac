// The status bar item: active model, training state (epoch, −ELBO) and backend; a click opens
// the Latent Explorer.

import { basename } from 'node:path';
import * as vscode from 'vscode';
import { Disposable } from './disposable';
import type { Session } from './session';
import { backendLabel, backendText } from '../protocol/backendText';

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
    const negElbo = session.series.latestNegElbo();
    const tip = new vscode.MarkdownString(undefined, true);
    tip.appendMarkdown('**Latent Atlas**\n\n');
    if (training && status) {
      this.item.text = `$(sync~spin) VAE ${training.name}: epoch ${status.epoch}/${status.epochs}${negElbo !== null ? ` · −ELBO ${negElbo.toFixed(1)}` : ''}`;
      tip.appendMarkdown(
        `Training **${training.name}**: epoch ${status.epoch} of ${status.epochs}, step ${status.step}, ${Math.round(status.imagesPerSecond)} images/s.\n\n`,
      );
    } else if (model) {
      this.item.text = `$(graph-scatter) VAE ${model}`;
      tip.appendMarkdown(`Active model **${model}**${negElbo !== null ? `, −ELBO ${negElbo.toFixed(2)} nats per image` : ''}.\n\n`);
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
