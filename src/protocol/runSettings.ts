// A run's settings as a person compares them: one rule for the status bar tooltip, the Load Model
// picker and the Training view's comparison table, so a run reads the same in all three.

import type { ModelConfig, Preprocessing, TrainingConfig } from './model';

/** What the settings are read from: a RunManifest, or one read from disk that may lack fields. */
export interface SettingsSource {
  model?: Partial<ModelConfig>;
  training?: Partial<TrainingConfig>;
  preprocessing?: Partial<Preprocessing>;
  epochsCompleted?: number;
  backend?: string;
  imported?: { format: 'onnx' | 'tfjs' };
}

export type SettingKey = 'model' | 'latent' | 'beta' | 'likelihood' | 'epochs' | 'batch' | 'learningRate' | 'image' | 'backend';

/** One setting: a column of the comparison table and a part of the one-line summary. */
export interface Setting {
  key: SettingKey;
  title: string;
  /** The same text in every place; NOT_SET when the run does not have it. */
  value: string;
}

/** The value of a setting a run does not have (a model trained elsewhere has no batch size). */
export const NOT_SET = '–';

/** 3 significant digits, no trailing zeros: 1, 0.5, 0.125. */
const figure = (v: number) => String(+v.toPrecision(3));

/** 1e-3, 2.5e-4, 0.01, 0.1 (small rates in the exponent form people type them in). */
export function learningRateText(v: number): string {
  return v < 0.01 ? (+v.toPrecision(3)).toExponential() : figure(v);
}

const known = (v: number | undefined, text: (v: number) => string) => (typeof v === 'number' && Number.isFinite(v) ? text(v) : NOT_SET);

function modelText(m: SettingsSource): string {
  if (m.imported) return `${m.imported.format === 'onnx' ? 'ONNX' : 'tfjs'}, trained elsewhere`;
  const arch = m.model?.architecture;
  if (!arch) return NOT_SET;
  const widths = arch === 'conv' ? m.model?.convFilters : m.model?.hiddenUnits;
  return `${arch}${widths?.length ? ` ${widths.join('-')}` : ''}${m.model?.conditional ? ', conditional' : ''}`;
}

function likelihoodText(model: Partial<ModelConfig> | undefined): string {
  if (model?.likelihood === 'gaussian') return typeof model.sigma === 'number' ? `gaussian σ=${figure(model.sigma)}` : 'gaussian';
  return model?.likelihood ?? NOT_SET;
}

/** The settings of a run, in table order. */
export function runSettings(m: SettingsSource): Setting[] {
  const trained = !m.imported;
  const t = m.training;
  const p = m.preprocessing;
  const size = p?.width && p.height && p.channels ? `${p.width}×${p.height}×${p.channels}` : NOT_SET;
  const epochs = trained && t?.epochs !== undefined ? `${m.epochsCompleted ?? 0}/${t.epochs} epochs` : NOT_SET;
  return [
    { key: 'model', title: 'Model', value: modelText(m) },
    { key: 'latent', title: 'Latent', value: known(m.model?.latentSize, (z) => `z=${z}`) },
    { key: 'beta', title: 'β', value: trained ? known(m.model?.beta, (b) => `β=${figure(b)}`) : NOT_SET },
    { key: 'likelihood', title: 'Likelihood', value: likelihoodText(m.model) },
    { key: 'epochs', title: 'Epochs', value: epochs },
    { key: 'batch', title: 'Batch', value: trained ? known(t?.batchSize, (b) => `batch ${b}`) : NOT_SET },
    { key: 'learningRate', title: 'Learning rate', value: trained ? known(t?.learningRate, (r) => `lr ${learningRateText(r)}`) : NOT_SET },
    { key: 'image', title: 'Image', value: size },
    { key: 'backend', title: 'Backend', value: trained && m.backend ? m.backend : NOT_SET },
  ];
}

/** The settings on one line, the ones a run does not have left out: "mlp 400 · z=2 · β=1 · …". */
export function settingsSummary(m: SettingsSource): string {
  return settingsLine(runSettings(m));
}

/** The one-line form of settings already worked out (the webview gets them as a list). */
export function settingsLine(settings: readonly Setting[]): string {
  return settings
    .filter((s) => s.value !== NOT_SET)
    .map((s) => s.value)
    .join(' · ');
}
