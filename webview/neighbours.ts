// "Neighbours": the k encoded images nearest to the pinned point in the model's full latent space
// (not the 2-D projection), by the Euclidean distance between posterior means or the Bhattacharyya
// distance between the posteriors. Listed with thumbnails and distances; those in a folder shown
// (and not switched off) are linked to the pin on the scatter. Once asked for, the list follows the pin; a reply for a
// point that is no longer pinned, or to an older request, is dropped.

import type { NeighbourMetric, NeighboursMessage, NeighboursOfMessage, PointFile } from '../src/protocol/webview';
import { pointUri } from '../src/protocol/webview';
import { baseName } from './core/hitTest';
import { findPoint, type PointSet } from './core/pointSet';
import { el, onActivate } from './dom';
import { enlargeable } from './lightbox';
import { host } from './host';

export interface NeighboursHost {
  /** The pinned point's file, or null. */
  pinned(): PointFile | null;
  points(): PointSet | null;
  /** 1 per point of a folder switched off, or null. */
  hidden(): Uint8Array | null;
  /** Point indices (of the points shown) to link the pin to — or, for a file asked about from VS Code, that file's place on the map. */
  setLinks(indices: number[], from?: [number, number] | null): void;
  /** Where a latent vector falls on the map, or null where the projection has no formula (UMAP). */
  project(z: number[]): [number, number] | null;
  /** Pins point `index` of the points shown. */
  pick(index: number): void;
  message(text: string): void;
  /** k and the metric, kept in the view state. */
  settingsChanged(k: number, metric: NeighbourMetric): void;
}

const METRICS: { value: NeighbourMetric; text: string; title: string }[] = [
  { value: 'euclidean', text: 'Euclidean', title: 'Distance between the posterior means' },
  { value: 'bhattacharyya', text: 'Bhattacharyya', title: 'Distance between the posteriors: accounts for their spread (σ)' },
];

const sameFile = (a: PointFile | null, b: PointFile | null) => a !== null && b !== null && a.folder === b.folder && a.name === b.name;

export class NeighboursPanel {
  readonly root: HTMLElement;
  private readonly kField: HTMLElement;
  private readonly metricSelect: HTMLSelectElement;
  private readonly status = el('p', { class: 'hint neighbours-status', role: 'status' });
  private readonly list = el('ol', { class: 'thumb-list neighbours-list', 'aria-label': 'Nearest neighbours' });
  /** The request whose reply is awaited: the only one shown when it comes. */
  private pending: ({ id: number } & PointFile) | null = null;
  private shown: NeighboursMessage | null = null;
  /** Asked for since the last unpin: a new pin gets its neighbours too. */
  private following = false;

  constructor(
    private readonly hostSide: NeighboursHost,
    k: number,
    metric: NeighbourMetric,
  ) {
    this.kField = el('vscode-textfield', {
      type: 'number',
      min: 1,
      max: 100,
      value: k,
      class: 'k-field',
      'aria-label': 'Number of neighbours',
    });
    this.metricSelect = el(
      'select',
      { class: 'neighbour-metric', 'aria-label': 'Distance' },
      ...METRICS.map((m) => el('option', { value: m.value, title: m.title }, m.text)),
    );
    this.metricSelect.value = metric;
    const find = el(
      'vscode-button',
      { class: 'find-neighbours', secondary: true, title: 'The nearest encoded images in the full latent space' },
      'Find neighbours',
    );
    find.addEventListener('click', () => this.find());
    const changed = () => {
      this.hostSide.settingsChanged(this.k(), this.metric());
      if (this.following && this.hostSide.pinned()) this.find();
    };
    this.kField.addEventListener('change', changed);
    this.metricSelect.addEventListener('change', changed);
    this.root = el(
      'div',
      { class: 'neighbours' },
      el('div', { class: 'row' }, el('label', {}, 'k ', this.kField), this.metricSelect, find),
      this.status,
      this.list,
    );
    this.render();
  }

  k(): number {
    const v = Math.round(Number((this.kField as HTMLInputElement).value));
    return Number.isFinite(v) ? Math.min(100, Math.max(1, v)) : 10;
  }

  metric(): NeighbourMetric {
    return this.metricSelect.value === 'bhattacharyya' ? 'bhattacharyya' : 'euclidean';
  }

  /** Asks for the pinned point's neighbours. */
  find(): void {
    const pin = this.hostSide.pinned();
    if (!pin) {
      this.hostSide.message('Click a point to pin it, then Find neighbours.');
      return;
    }
    this.following = true;
    const id = host.requestId();
    this.pending = { id, ...pin };
    host.post({ type: 'findNeighbours', requestId: id, folder: pin.folder, name: pin.name, k: this.k(), metric: this.metric() });
    this.render();
  }

  /**
   * "Find Similar Images" from VS Code: a point shown is pinned and found as after a click; any
   * other image file is asked about by its path and listed with its own image first.
   */
  showFor(msg: NeighboursOfMessage): void {
    const points = this.hostSide.points();
    const found = msg.point && points ? findPoint(points, msg.point) : -1;
    if (found >= 0) {
      this.hostSide.pick(found);
      this.find();
      return;
    }
    this.following = false;
    this.shown = null;
    const id = host.requestId();
    this.pending = { id, folder: '', name: msg.file };
    host.post({ type: 'findNeighbours', requestId: id, folder: '', name: msg.file, file: msg.file, k: this.k(), metric: this.metric() });
    this.render();
  }

  owns(id: number): boolean {
    return this.pending?.id === id;
  }

  onReply(msg: NeighboursMessage): void {
    if (!this.owns(msg.requestId)) return;
    this.pending = null;
    if (!msg.query && !sameFile(msg, this.hostSide.pinned())) return;
    this.shown = msg;
    this.render();
  }

  onError(id: number): void {
    if (!this.owns(id)) return;
    this.pending = null;
    this.render();
  }

  /** The pin moved (or went): what was shown or asked for another point is dropped. */
  pinChanged(): void {
    const pin = this.hostSide.pinned();
    // A file asked about from VS Code stays until a point is pinned.
    const query = (p: PointFile | null) => p !== null && p.folder === '' && pin === null;
    if (!sameFile(this.shown, pin) && !query(this.shown)) this.shown = null;
    if (!sameFile(this.pending, pin) && !query(this.pending)) this.pending = null;
    if (!pin) this.following = false;
    else if (this.following && !this.shown && !this.pending) {
      this.find();
      return;
    }
    this.render();
  }

  /** New points (or a new projection of them): the links are found again by name. */
  render(): void {
    const r = this.shown;
    const points = this.hostSide.points();
    const hidden = this.hostSide.hidden();
    const links: number[] = [];
    if (!r) {
      this.list.replaceChildren();
      this.status.textContent = this.pending
        ? `Finding the neighbours of ${baseName(this.pending.name)}…`
        : 'The nearest encoded images to the pinned point in the full latent space.';
      this.hostSide.setLinks(links);
      return;
    }
    const how = r.metric === 'bhattacharyya' ? 'Bhattacharyya distance between posteriors' : 'Euclidean distance between means';
    const of = r.query ? `${baseName(r.query.file)}, not among the points shown` : baseName(r.name);
    this.status.textContent = `${r.neighbours.length} nearest to ${of} (${how}${points ? `, ${points.dims}-D` : ''})`;
    const items = r.neighbours.map((n) => {
      const found = points ? findPoint(points, n) : -1;
      const here = found >= 0 && !hidden?.[found] ? found : undefined;
      if (here !== undefined) links.push(here);
      const elsewhere = found < 0;
      const item = el(
        'li',
        {
          class: `thumb-item${elsewhere ? ' elsewhere' : ''}`,
          'data-name': n.name,
          title: elsewhere ? `${n.name} in ${n.folder}` : n.name,
        },
        enlargeable(el('img', { class: 'thumb', src: pointUri(n.folderUri, n.name), alt: '' }), () => n.name),
        el(
          'span',
          { class: 'thumb-text' },
          el('span', { class: 'thumb-name' }, baseName(n.name)),
          el(
            'span',
            { class: 'thumb-figures' },
            `distance ${n.distance.toPrecision(3)}${n.label ? ` · ${n.label}` : ''}${elsewhere ? ` · in ${baseName(n.folder)}` : ''}`,
          ),
        ),
      );
      if (here !== undefined) {
        item.setAttribute('role', 'button');
        item.tabIndex = 0;
        onActivate(item, () => this.hostSide.pick(here));
      }
      return item;
    });
    if (r.query) {
      const q = r.query;
      const item = el(
        'li',
        { class: 'thumb-item query-item', title: q.file },
        enlargeable(el('img', { class: 'thumb', src: q.uri, alt: '' }), () => q.file),
        el(
          'span',
          { class: 'thumb-text' },
          el('span', { class: 'thumb-name' }, baseName(q.file)),
          el('span', { class: 'thumb-figures' }, 'the image asked about'),
        ),
      );
      this.list.replaceChildren(item, ...items);
      this.hostSide.setLinks(links, this.hostSide.project(q.mu));
      return;
    }
    this.list.replaceChildren(...items);
    this.hostSide.setLinks(links);
  }
}
