// Runs side by side in the Training view: a Compare control lists the workspace's other runs; each
// run added draws its per-epoch −ELBO, reconstruction and KL (training solid, validation dashed)
// beside the shown run's, in its own theme colour, with a legend and a table of the runs' settings
// (the same text as the status bar and the Load Model picker). Removing a run removes its curves.

import { scaleLinear } from 'd3-scale';
import { select } from 'd3-selection';
import { line } from 'd3-shape';
import { axisBottom, axisLeft } from 'd3-axis';
import type { ElboTerms } from '../src/protocol/model';
import { NOT_SET, runSettings, type Setting } from '../src/protocol/runSettings';
import type { ComparedEpoch, ComparedRunMessage, FromWebviewMessage, RunChoice } from '../src/protocol/webview';
import { el } from './dom';

type Term = 'negElbo' | 'reconstruction' | 'kl';
const TERMS: { key: Term; title: string }[] = [
  { key: 'negElbo', title: '−ELBO' },
  { key: 'reconstruction', title: 'Reconstruction' },
  { key: 'kl', title: 'KL' },
];
const value = (t: ElboTerms, key: Term) => (key === 'negElbo' ? -t.elbo : t[key]);

/** Colours of compared runs (CSS classes run-colour-1…6); 0 is the shown run's. */
const COLOURS = 6;
/** The setting columns of the table, in order (the titles come with the settings). */
const COLUMNS = runSettings({}).map((s) => ({ key: s.key, title: s.title }));

interface ShownRun {
  runDir: string;
  name: string;
  settings: Setting[];
  epochs: ComparedEpoch[];
  colour: number;
  current: boolean;
}

export class RunComparison {
  readonly root: HTMLElement;
  private choices: RunChoice[] = [];
  private compared: ShownRun[] = [];
  /** compareRun requests in flight: request id → run folder. */
  private readonly pending = new Map<number, string>();
  private current: { name: string; epochs: ComparedEpoch[] } | null = null;
  private readonly select: HTMLSelectElement;
  private readonly addButton: HTMLElement;
  private readonly note: HTMLElement;
  private readonly shown: HTMLElement;
  private readonly legend: HTMLElement;
  /** The runs and settings the table shows: it is rebuilt only when they change (not per frame). */
  private tableKey = '';
  private readonly charts: HTMLElement;
  private readonly table: HTMLTableElement;
  private choicesKey = '';

  constructor(
    private readonly post: (m: FromWebviewMessage) => void,
    private readonly requestId: () => number,
    /** Called when the runs compared change (to keep them in the view state). */
    private readonly changed: (runDirs: string[]) => void = () => undefined,
    /** Runs compared before a reload: added again once the host lists them. */
    private restore: string[] = [],
  ) {
    this.select = el('select', { class: 'compare-select', 'aria-label': 'Run to compare with' });
    // The list is read again when a person comes to it, so a run trained meanwhile is there.
    this.select.addEventListener('focus', () => this.post({ type: 'listRuns' }));
    this.addButton = el('vscode-button', { secondary: true, class: 'compare-add', disabled: true }, 'Compare');
    this.addButton.addEventListener('click', () => {
      if (!this.addButton.hasAttribute('disabled') && this.select.value) this.add(this.select.value);
    });
    this.note = el('p', { class: 'compare-note' });
    this.legend = el('div', { class: 'compare-legend', 'aria-label': 'Runs compared' });
    this.charts = el('div', { class: 'compare-charts' });
    this.table = el('table', { class: 'compare-table' });
    this.shown = el(
      'div',
      { class: 'compare-shown', hidden: true },
      this.legend,
      el('p', { class: 'line-key' }, 'Solid: training; dashed: validation.'),
      this.charts,
      this.table,
    );
    this.root = el(
      'section',
      { class: 'run-comparison', 'aria-label': 'Compare runs' },
      el('h3', {}, 'Compare runs (per epoch, nats/image)'),
      el('div', { class: 'row' }, this.select, this.addButton),
      this.note,
      this.shown,
    );
    this.renderChoices();
  }

  /** The workspace's runs with epochs, as the host lists them. */
  setRuns(runs: RunChoice[]): void {
    this.choices = runs;
    // The shown run may have become one that was compared: it is drawn once, as the shown run.
    const current = runs.find((r) => r.current);
    if (current && this.compared.some((c) => c.runDir === current.runDir)) this.remove(current.runDir);
    for (const runDir of this.restore) if (runs.some((r) => r.runDir === runDir && !r.current)) this.add(runDir);
    this.restore = [];
    this.renderChoices();
    this.render();
  }

  /** The shown run's epochs (from the live series). */
  setCurrent(name: string | null, epochs: ComparedEpoch[]): void {
    this.current = name !== null || epochs.length ? { name: name ?? 'This run', epochs } : null;
  }

  /** Answers a compareRun request; false when it is not this comparison's. */
  onCompared(m: ComparedRunMessage): boolean {
    if (!this.pending.delete(m.requestId)) return false;
    if (this.compared.some((c) => c.runDir === m.run.runDir)) return true;
    const used = new Set(this.compared.map((c) => c.colour));
    let colour = 1;
    while (used.has(colour) && colour < COLOURS) colour++;
    this.compared.push({ ...m.run, colour, current: false });
    this.afterChange();
    return true;
  }

  /** A compareRun request failed (the error itself is shown by the explorer). */
  onError(requestId: number): void {
    if (this.pending.delete(requestId)) this.renderChoices();
  }

  private add(runDir: string): void {
    if (this.compared.some((c) => c.runDir === runDir) || [...this.pending.values()].includes(runDir)) return;
    const requestId = this.requestId();
    this.pending.set(requestId, runDir);
    this.post({ type: 'compareRun', requestId, runDir });
  }

  private remove(runDir: string): void {
    const before = this.compared.length;
    this.compared = this.compared.filter((c) => c.runDir !== runDir);
    if (this.compared.length !== before) this.afterChange();
  }

  private afterChange(): void {
    this.changed(this.compared.map((c) => c.runDir));
    this.renderChoices();
    this.render();
    // Keyboard focus must not fall to the page when its Remove button goes.
    if (!this.root.contains(document.activeElement)) this.select.focus();
  }

  private renderChoices(): void {
    const open = this.choices.filter((r) => !r.current && !this.compared.some((c) => c.runDir === r.runDir));
    const key = open.map((r) => r.runDir).join('\n');
    // Options are rebuilt only when they change, so a list a person has open stays as it is.
    if (key !== this.choicesKey) {
      this.choicesKey = key;
      const keep = this.select.value;
      this.select.replaceChildren(
        el('option', { value: '' }, open.length ? 'Choose a run…' : 'No other run'),
        ...open.map((r) => el('option', { value: r.runDir, title: r.runDir }, r.name)),
      );
      this.select.value = open.some((r) => r.runDir === keep) ? keep : (open[0]?.runDir ?? '');
    }
    this.select.disabled = open.length === 0;
    if (open.length) this.addButton.removeAttribute('disabled');
    else this.addButton.setAttribute('disabled', '');
    this.note.textContent = this.choices.some((r) => !r.current)
      ? ''
      : 'Runs of this workspace with a completed epoch appear here to compare with.';
    this.note.hidden = this.note.textContent === '';
  }

  /** The shown run first (when it has epochs), then the compared ones in the order they were added. */
  private runs(): ShownRun[] {
    const own = this.choices.find((r) => r.current);
    const current: ShownRun[] =
      this.current && this.current.epochs.length
        ? [
            {
              runDir: own?.runDir ?? '',
              name: this.current.name,
              settings: own?.settings ?? [],
              epochs: this.current.epochs,
              colour: 0,
              current: true,
            },
          ]
        : [];
    return [...current, ...this.compared];
  }

  render(): void {
    this.shown.hidden = this.compared.length === 0;
    if (this.shown.hidden) return;
    const runs = this.runs();
    this.renderLegend(runs);
    this.renderCharts(runs);
    this.renderTable(runs);
  }

  private renderLegend(runs: ShownRun[]): void {
    select(this.legend)
      .selectAll<HTMLSpanElement, ShownRun>('span.run-key')
      .data(runs, (r) => r.runDir)
      .join((enter) => {
        const s = enter.append('span');
        s.append('span').attr('class', 'run-swatch').attr('aria-hidden', 'true');
        s.append('span').attr('class', 'run-name');
        return s;
      })
      .attr('class', (r) => `run-key run-colour-${r.colour}`)
      .attr('data-run', (r) => r.runDir)
      .call((s) => s.select('.run-name').text((r) => (r.current ? `${r.name} (shown)` : r.name)));
  }

  private renderCharts(runs: ShownRun[]): void {
    const width = Math.max(240, Math.floor(this.charts.getBoundingClientRect().width || 360));
    // Room above the curves for the title: the runs' first epochs are the highest points.
    const height = 110;
    const margin = { left: 48, right: 8, top: 22, bottom: 18 };
    const maxEpoch = Math.max(2, ...runs.flatMap((r) => r.epochs.map((e) => e.epoch)));
    const x = scaleLinear()
      .domain([1, maxEpoch])
      .range([margin.left, width - margin.right]);
    type Series = { run: ShownRun; kind: 'train' | 'val'; points: { epoch: number; v: number }[] };
    select(this.charts)
      .selectAll<SVGSVGElement, (typeof TERMS)[number]>('svg')
      .data(TERMS)
      .join((enter) => {
        const svg = enter.append('svg').attr('class', (d) => `chart compare-chart compare-${d.key}`);
        svg.append('g').attr('class', 'axis axis-x');
        svg.append('g').attr('class', 'axis axis-y');
        svg.append('g').attr('class', 'runs');
        svg
          .append('text')
          .attr('class', 'chart-title')
          .attr('x', margin.left + 6)
          .attr('y', 16)
          .text((d) => `${d.title} per epoch`);
        return svg;
      })
      .attr('width', width)
      .attr('height', height)
      .attr('viewBox', `0 0 ${width} ${height}`)
      .each((term, i, nodes) => {
        const svg = select(nodes[i]);
        const series: Series[] = runs.flatMap((run) => [
          { run, kind: 'train' as const, points: run.epochs.map((e) => ({ epoch: e.epoch, v: value(e.train, term.key) })) },
          {
            run,
            kind: 'val' as const,
            points: run.epochs.flatMap((e) => (e.validation ? [{ epoch: e.epoch, v: value(e.validation, term.key) }] : [])),
          },
        ]);
        const all = series.flatMap((s) => s.points.map((p) => p.v)).filter(Number.isFinite);
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
              .ticks(Math.min(maxEpoch - 1, 6))
              .tickFormat((v) => (Number.isInteger(Number(v)) ? String(v) : ''))
              .tickSizeOuter(0),
          );
        svg.select<SVGGElement>('.axis-y').attr('transform', `translate(${margin.left},0)`).call(axisLeft(y).ticks(4).tickSizeOuter(0));
        const path = line<{ epoch: number; v: number }>()
          .defined((p) => Number.isFinite(p.v))
          .x((p) => x(p.epoch))
          .y((p) => y(p.v));
        svg
          .select('.runs')
          .selectAll<SVGGElement, Series>('g.run-series')
          .data(
            series.filter((s) => s.points.length),
            (s) => `${s.run.runDir} ${s.kind}`,
          )
          .join((enter) => {
            const g = enter.append('g');
            g.append('path').attr('class', 'run-line');
            g.append('g').attr('class', 'run-points');
            return g;
          })
          .attr('class', (s) => `run-series run-colour-${s.run.colour} run-${s.kind}`)
          .attr('data-run', (s) => s.run.runDir)
          .attr('data-kind', (s) => s.kind)
          .call((g) =>
            g
              .select('path.run-line')
              .attr('d', (s) => path(s.points))
              .attr('data-points', (s) => s.points.length),
          )
          .call((g) =>
            g
              .select('.run-points')
              .selectAll<SVGCircleElement, { epoch: number; v: number }>('circle')
              .data((s) => s.points.filter((p) => Number.isFinite(p.v)))
              .join('circle')
              .attr('r', 2)
              .attr('cx', (p) => x(p.epoch))
              .attr('cy', (p) => y(p.v)),
          );
      });
  }

  private renderTable(runs: ShownRun[]): void {
    const key = JSON.stringify(runs.map((r) => [r.runDir, r.name, r.colour, r.settings]));
    if (key === this.tableKey) return;
    this.tableKey = key;
    const head = el(
      'tr',
      {},
      el('th', { scope: 'col' }, 'Run'),
      ...COLUMNS.map((c) => el('th', { scope: 'col' }, c.title)),
      el('th', { scope: 'col' }, el('span', { class: 'visually-hidden' }, 'Remove')),
    );
    const rows = runs.map((r) => {
      const byKey = new Map(r.settings.map((s) => [s.key, s.value]));
      const remove = el(
        'vscode-button',
        {
          secondary: true,
          class: 'compare-remove',
          'aria-label': `Remove ${r.name} from the comparison`,
          title: 'Remove from the comparison',
        },
        'Remove',
      );
      remove.addEventListener('click', () => this.remove(r.runDir));
      return el(
        'tr',
        { class: `run-colour-${r.colour}`, 'data-run': r.runDir },
        el(
          'th',
          { scope: 'row' },
          el('span', { class: 'run-swatch', 'aria-hidden': 'true' }),
          ` ${r.current ? `${r.name} (shown)` : r.name}`,
        ),
        ...COLUMNS.map((c) => el('td', { 'data-setting': c.key }, byKey.get(c.key) ?? NOT_SET)),
        el('td', {}, r.current ? '' : remove),
      );
    });
    this.table.replaceChildren(el('thead', {}, head), el('tbody', {}, ...rows));
  }
}
