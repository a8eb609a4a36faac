// The live ELBO panel: per-step lines for −ELBO, reconstruction and KL (nats per image), per-epoch
// train and validation markers, log p(x) when estimated, KL per latent dimension, and the run's
// figures. The host replays the full series on ready; steps and epochs append after that.

import { scaleBand, scaleLinear } from 'd3-scale';
import { select } from 'd3-selection';
import { line } from 'd3-shape';
import { axisBottom, axisLeft } from 'd3-axis';
import type { BackendReport, ElboTerms, EpochSummary } from '../src/protocol/model';
import type { StepPoint, TrainingStatus } from '../src/protocol/webview';
import { minMaxIndices } from './core/downsample';
import { countActive, formatDuration, formatNats, formatRate } from './core/format';
import { el } from './dom';
import { backendText } from '../src/protocol/backendText';
import { epochCountText, headline } from '../src/protocol/trainingFigures';
import type { RunComparison } from './runComparison';
import { announceTraining } from './trainingView';

type Term = 'negElbo' | 'reconstruction' | 'kl';
const TERMS: { key: Term; title: string }[] = [
  { key: 'negElbo', title: '−ELBO' },
  { key: 'reconstruction', title: 'Reconstruction' },
  { key: 'kl', title: 'KL' },
];

const TERM_FIGURES = new Set(['reconstruction', 'kl', 'bits']);

const value = (t: ElboTerms, key: Term) => (key === 'negElbo' ? -t.elbo : t[key]);

export class ElboPanel {
  readonly root: HTMLElement;
  private steps: StepPoint[] = [];
  private epochs: EpochSummary[] = [];
  private status: TrainingStatus | null = null;

  /** A training is starting or running (so the figures follow the steps). */
  private get live(): boolean {
    return this.status?.state === 'running' || this.status?.state === 'starting';
  }
  private backend: BackendReport | null = null;
  private readonly figures: HTMLElement;
  private readonly charts: HTMLElement;
  private readonly bars: HTMLElement;
  private readonly stopButton: HTMLElement;
  private readonly statusLine: HTMLElement;
  private frameRequested = false;
  /** The training state last announced (see trainingView.ts), as `state run`. */
  private announced = '';

  constructor(
    onStop: () => void,
    private readonly comparison: RunComparison,
  ) {
    this.stopButton = el('vscode-button', { secondary: true, disabled: true, class: 'stop-training' }, 'Stop training');
    this.stopButton.addEventListener('click', () => {
      if (!this.stopButton.hasAttribute('disabled')) onStop();
    });
    this.statusLine = el('p', { class: 'training-status', role: 'status', 'aria-live': 'polite' }, 'No training in this session.');
    this.figures = el('dl', { class: 'figures' });
    this.charts = el('div', { class: 'elbo-charts' });
    this.bars = el('div', { class: 'kl-bars' });
    this.root = el(
      'section',
      { class: 'elbo-panel', 'aria-label': 'Training' },
      el('div', { class: 'row' }, this.statusLine, this.stopButton),
      this.figures,
      el(
        'h3',
        {},
        'Per step (nats/image) — ',
        el('span', { class: 'legend-train' }, '● train epoch'),
        ' ',
        el('span', { class: 'legend-val' }, '◆ validation'),
        ' ',
        el('span', { class: 'legend-logpx' }, '▲ −log p(x)'),
      ),
      this.charts,
      comparison.root,
      el('h3', {}, 'KL per latent dimension'),
      this.bars,
    );
    this.render();
  }

  setSeries(status: TrainingStatus | null, steps: StepPoint[], epochs: EpochSummary[]): void {
    this.steps = [...steps].sort((a, b) => a.step - b.step);
    this.epochs = [...epochs].sort((a, b) => a.epoch - b.epoch);
    this.setStatus(status);
  }

  addStep(point: StepPoint, status: TrainingStatus): void {
    const last = this.steps[this.steps.length - 1];
    if (last && point.step <= last.step) this.steps = this.steps.filter((s) => s.step < point.step);
    this.steps.push(point);
    this.setStatus(status);
  }

  addEpoch(summary: EpochSummary, status: TrainingStatus): void {
    this.epochs = this.epochs.filter((e) => e.epoch !== summary.epoch);
    this.epochs.push(summary);
    this.epochs.sort((a, b) => a.epoch - b.epoch);
    this.setStatus(status);
  }

  setStatus(status: TrainingStatus | null): void {
    this.status = status;
    // A stopped run keeps its last committed epoch; the steps after it went with the rest (as the
    // host's series drops them, so a reload draws the same curve).
    const kept = this.epochs[this.epochs.length - 1];
    if (status?.state === 'cancelled' && kept) this.steps = this.steps.filter((p) => p.step <= kept.step);
    const key = `${status?.state ?? ''} ${status?.runName ?? ''}`;
    if (key !== this.announced) {
      this.announced = key;
      announceTraining(this.root, { state: status?.state ?? null, runName: status?.runName ?? '', live: this.live });
    }
    this.requestRender();
  }

  setBackend(backend: BackendReport | null): void {
    this.backend = backend;
    this.requestRender();
  }

  /** Re-draws at most once per frame however fast steps arrive. */
  private requestRender(): void {
    if (this.frameRequested) return;
    this.frameRequested = true;
    requestAnimationFrame(() => {
      this.frameRequested = false;
      this.render();
    });
  }

  render(): void {
    this.renderStatus();
    this.renderFigures();
    this.renderCharts();
    this.comparison.setCurrent(this.status?.runName ?? null, this.epochs);
    this.comparison.render();
    this.renderBars();
  }

  private renderStatus(): void {
    const s = this.status;
    if (this.live) this.stopButton.removeAttribute('disabled');
    else this.stopButton.setAttribute('disabled', '');
    this.statusLine.textContent = s
      ? `${s.runName}: ${s.state}${s.message ? ` — ${s.message}` : ''}`
      : this.steps.length || this.epochs.length
        ? 'Training history'
        : 'No training in this session.';
  }

  private renderFigures(): void {
    const s = this.status;
    const lastStep = this.steps[this.steps.length - 1];
    const lastEpoch = this.epochs[this.epochs.length - 1];
    const live = this.live;
    // One rule, shared with the status bar and the notification: while training the latest
    // stretch of steps, afterwards the last epoch's validation figures (else its training means).
    const shown = headline(live, lastStep, lastEpoch);
    const terms = shown?.terms;
    const of = shown ? ` (${shown.label})` : '';
    const klPerDim = lastEpoch?.klPerDim ?? [];
    const rows: [string, string, string][] = [
      ['Epoch', s ? epochCountText(s) : lastEpoch ? String(lastEpoch.epoch) : '–', 'epoch'],
      ['Step', String(s?.step ?? lastStep?.step ?? lastEpoch?.step ?? '–'), 'step'],
      [`−ELBO${of}`, formatNats(terms ? -terms.elbo : null), 'neg-elbo'],
      ['Reconstruction', formatNats(terms?.reconstruction), 'reconstruction'],
      ['KL', formatNats(terms?.kl), 'kl'],
      ['Bits/dim', terms ? terms.bitsPerDim.toFixed(3) : '–', 'bits'],
      [
        lastEpoch?.validation ? `Validation −ELBO (epoch ${lastEpoch.epoch})` : 'Validation −ELBO',
        formatNats(lastEpoch?.validation ? -lastEpoch.validation.elbo : null),
        'val-elbo',
      ],
      ['log p(x)', lastEpoch?.logPx ? `${formatNats(lastEpoch.logPx.value)} (k=${lastEpoch.logPx.k})` : '–', 'logpx'],
      ['Active units', lastEpoch ? `${lastEpoch.activeUnits ?? countActive(klPerDim)} / ${klPerDim.length}` : '–', 'active'],
      [
        'Images/s',
        formatRate(
          (live ? (lastStep?.imagesPerSecond ?? s?.imagesPerSecond) : undefined) ?? lastEpoch?.imagesPerSecond ?? lastStep?.imagesPerSecond,
        ),
        'rate',
      ],
      ['ETA', s?.state === 'running' ? formatDuration(s.eta) : '–', 'eta'],
      ['Backend', this.backend ? backendText(this.backend) : (lastEpoch?.backend ?? '–'), 'backend'],
    ];
    select(this.figures)
      .selectAll<HTMLDivElement, [string, string, string]>('div')
      .data(rows)
      .join((enter) => {
        const d = enter.append('div');
        d.append('dt');
        d.append('dd');
        return d;
      })
      .attr('data-figure', (r) => r[2])
      .call((d) => d.select('dt').text((r) => r[0]))
      // Reconstruction, KL and bits/dim are the −ELBO's terms: the same stretch or epoch.
      .call((d) =>
        d.select('dt').attr('title', (r) => (TERM_FIGURES.has(r[2]) && shown ? `Of the same figures as −ELBO: ${shown.label}` : null)),
      )
      .call((d) => d.select('dd').text((r) => r[1]));
  }

  private renderCharts(): void {
    const width = Math.max(240, Math.floor(this.charts.getBoundingClientRect().width || 360));
    const height = 96;
    const margin = { left: 48, right: 8, top: 6, bottom: 18 };
    const steps = this.steps;
    const maxStep = Math.max(1, steps[steps.length - 1]?.step ?? 0, this.epochs[this.epochs.length - 1]?.step ?? 0);
    const x = scaleLinear()
      .domain([0, maxStep])
      .range([margin.left, width - margin.right]);
    const chart = select(this.charts)
      .selectAll<SVGSVGElement, { key: Term; title: string }>('svg')
      .data(TERMS)
      .join((enter) => {
        const svg = enter.append('svg').attr('class', (d) => `chart chart-${d.key}`);
        svg.append('g').attr('class', 'axis axis-x');
        svg.append('g').attr('class', 'axis axis-y');
        svg.append('path').attr('class', 'series');
        svg.append('g').attr('class', 'epoch-marks');
        svg
          .append('text')
          .attr('class', 'chart-title')
          .attr('x', margin.left + 6)
          .attr('y', 16);
        return svg;
      })
      .attr('width', width)
      .attr('height', height)
      .attr('viewBox', `0 0 ${width} ${height}`);
    chart.each((term, i, nodes) => {
      const svg = select(nodes[i]);
      const ys = steps.map((s) => value(s.terms, term.key));
      const keep = minMaxIndices(ys, 2 * (width - margin.left - margin.right));
      const marks: { x: number; y: number; kind: 'train' | 'val' | 'logpx' }[] = [];
      for (const e of this.epochs) {
        marks.push({ x: e.step, y: value(e.train, term.key), kind: 'train' });
        if (e.validation) marks.push({ x: e.step, y: value(e.validation, term.key), kind: 'val' });
        if (e.logPx && term.key === 'negElbo') marks.push({ x: e.step, y: -e.logPx.value, kind: 'logpx' });
      }
      const all = [...keep.map((k) => ys[k]), ...marks.map((m) => m.y)].filter(Number.isFinite);
      const lo = all.length ? Math.min(...all) : 0;
      const hi = all.length ? Math.max(...all) : 1;
      const pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.05 || 1;
      const y = scaleLinear()
        .domain([lo - pad, hi + pad])
        .range([height - margin.bottom, margin.top])
        .nice();
      svg
        .select<SVGGElement>('.axis-x')
        .attr('transform', `translate(0,${height - margin.bottom})`)
        .call(
          axisBottom(x)
            .ticks(5)
            .tickFormat((v) => formatStep(Number(v)))
            .tickSizeOuter(0),
        );
      svg.select<SVGGElement>('.axis-y').attr('transform', `translate(${margin.left},0)`).call(axisLeft(y).ticks(4).tickSizeOuter(0));
      const path = line<number>()
        .x((k) => x(steps[k].step))
        .y((k) => y(ys[k]));
      svg
        .select('path.series')
        .attr('d', keep.length ? path(keep) : null)
        .attr('data-points', keep.length);
      svg
        .select('.epoch-marks')
        .selectAll<SVGPathElement, (typeof marks)[number]>('path')
        .data(marks)
        .join('path')
        .attr('class', (m) => `mark mark-${m.kind}`)
        .attr('d', (m) => symbol(m.kind))
        .attr('transform', (m) => `translate(${x(m.x)},${y(m.y)})`);
      const latest = ys[ys.length - 1];
      // The per-step chart's own figure is its last stretch, and says so (the figures above may be an epoch's).
      svg.select('text.chart-title').text(`${term.title}${latest === undefined ? '' : ` · latest ${formatNats(latest)}`}`);
    });
  }

  private renderBars(): void {
    const last = this.epochs[this.epochs.length - 1];
    const kl = last?.klPerDim ?? [];
    const width = Math.max(240, Math.floor(this.bars.getBoundingClientRect().width || 360));
    const height = 90;
    const margin = { left: 48, right: 8, top: 6, bottom: 18 };
    const x = scaleBand<number>()
      .domain(kl.map((_, i) => i))
      .range([margin.left, width - margin.right])
      .padding(0.15);
    const y = scaleLinear()
      .domain([0, Math.max(0.05, ...kl)])
      .range([height - margin.bottom, margin.top])
      .nice();
    const svg = select(this.bars)
      .selectAll<SVGSVGElement, number>('svg')
      .data([0])
      .join((enter) => {
        const s = enter.append('svg').attr('class', 'chart chart-kl-dims');
        s.append('g').attr('class', 'axis axis-x');
        s.append('g').attr('class', 'axis axis-y');
        s.append('g').attr('class', 'bars');
        return s;
      })
      .attr('width', width)
      .attr('height', height);
    svg
      .select<SVGGElement>('.axis-x')
      .attr('transform', `translate(0,${height - margin.bottom})`)
      .call(
        axisBottom(x)
          .tickValues(kl.length > 16 ? kl.map((_, i) => i).filter((i) => i % Math.ceil(kl.length / 16) === 0) : kl.map((_, i) => i))
          .tickSizeOuter(0),
      );
    svg.select<SVGGElement>('.axis-y').attr('transform', `translate(${margin.left},0)`).call(axisLeft(y).ticks(3).tickSizeOuter(0));
    svg
      .select('.bars')
      .selectAll<SVGRectElement, { v: number; i: number }>('rect')
      .data(kl.map((v, i) => ({ v, i })))
      .join((enter) => {
        const r = enter.append('rect');
        r.append('title');
        return r;
      })
      .attr('class', (d) => (d.v > 0.01 ? 'bar active' : 'bar inactive'))
      .attr('x', (d) => x(d.i) ?? 0)
      .attr('width', x.bandwidth())
      .attr('y', (d) => y(d.v))
      .attr('height', (d) => y(0) - y(d.v))
      .select('title')
      .text((d) => `z${d.i}: ${d.v.toFixed(3)} nats`);
  }
}

/** Step counts on the axis: 500, 1.5k, 12k. */
function formatStep(v: number): string {
  return Math.abs(v) >= 1000 ? `${+(v / 1000).toFixed(1)}k` : String(v);
}

function symbol(kind: 'train' | 'val' | 'logpx'): string {
  if (kind === 'train') return 'M-3.5,0a3.5,3.5 0 1,0 7,0a3.5,3.5 0 1,0 -7,0';
  if (kind === 'val') return 'M0,-4.5L4.5,0L0,4.5L-4.5,0Z';
  return 'M0,-4.5L4.5,3.5L-4.5,3.5Z';
}
