// The scatter's SVG marks over the points, redrawn with every pan and zoom: search matches, the
// hovered point, the pin and its links to its neighbours, interpolation endpoints, the selection.

import type { ScaleLinear } from 'd3-scale';
import type { Selection } from 'd3-selection';
import type { Point2 } from './core/hitTest';

export interface Marks {
  highlight: number[];
  endpoints: Point2[];
  selection: Point2[] | null;
  pin: number | null;
  /** Lines from the pinned point to these points (its neighbours in the full latent space). */
  links: number[];
  /** Where an image asked about from VS Code falls (not a point shown): a marker, and the links start there. */
  query: Point2 | null;
}

/** Draws `marks` for points at `coords` (x, y per point) through the zoomed scales. */
export function drawMarks(
  svg: Selection<SVGSVGElement, unknown, null, undefined>,
  marks: Marks,
  hovered: number | null,
  c: Float32Array,
  x: ScaleLinear<number, number>,
  y: ScaleLinear<number, number>,
): void {
  const g = svg.select<SVGGElement>('.marks');
  g.selectAll<SVGCircleElement, number>('circle.highlight')
    .data(marks.highlight.slice(0, 300))
    .join('circle')
    .attr('class', 'highlight')
    .attr('r', 6)
    .attr('cx', (i) => x(c[2 * i]))
    .attr('cy', (i) => y(c[2 * i + 1]));
  g.selectAll<SVGCircleElement, number>('circle.hover')
    .data(hovered === null ? [] : [hovered])
    .join('circle')
    .attr('class', 'hover')
    .attr('r', 7)
    .attr('cx', (i) => x(c[2 * i]))
    .attr('cy', (i) => y(c[2 * i + 1]));
  // The pinned point follows its point through pan, zoom and projection changes.
  const pin = marks.pin;
  const n = c.length / 2;
  const q = marks.query;
  const from: Point2 | null = q ?? (pin !== null && pin < n ? [c[2 * pin], c[2 * pin + 1]] : null);
  const links = svg.select<SVGGElement>('.links');
  links
    .selectAll<SVGLineElement, number>('line.link')
    .data(from === null ? [] : marks.links.filter((i) => i < n))
    .join('line')
    .attr('class', 'link')
    .attr('x1', from ? x(from[0]) : 0)
    .attr('y1', from ? y(from[1]) : 0)
    .attr('x2', (i) => x(c[2 * i]))
    .attr('y2', (i) => y(c[2 * i + 1]));
  links
    .selectAll<SVGCircleElement, number>('circle.link-end')
    .data(from === null ? [] : marks.links.filter((i) => i < n))
    .join('circle')
    .attr('class', 'link-end')
    .attr('r', 4)
    .attr('cx', (i) => x(c[2 * i]))
    .attr('cy', (i) => y(c[2 * i + 1]));
  g.selectAll<SVGPathElement, Point2>('path.query')
    .data(q ? [q] : [])
    .join('path')
    .attr('class', 'query')
    .attr('d', 'M0,-9L9,0L0,9L-9,0Z')
    .attr('transform', (p) => `translate(${x(p[0])},${y(p[1])})`);
  g.selectAll<SVGGElement, number>('g.pin')
    .data(pin !== null && pin < c.length / 2 ? [pin] : [])
    .join((enter) => {
      const e = enter.append('g').attr('class', 'pin');
      e.append('circle').attr('class', 'pin-halo').attr('r', 10);
      e.append('circle').attr('class', 'pin-ring').attr('r', 10);
      return e;
    })
    .attr('transform', (i) => `translate(${x(c[2 * i])},${y(c[2 * i + 1])})`);
  g.selectAll<SVGGElement, Point2>('g.endpoint')
    .data(marks.endpoints)
    .join((enter) => {
      const e = enter.append('g').attr('class', 'endpoint');
      e.append('circle').attr('r', 8);
      e.append('text').attr('dy', -12).attr('text-anchor', 'middle');
      return e;
    })
    .attr('transform', (p) => `translate(${x(p[0])},${y(p[1])})`)
    .select('text')
    .text((_, i) => (i === 0 ? 'A' : 'B'));
  const sel = marks.selection;
  g.selectAll<SVGPathElement, Point2[]>('path.selection')
    .data(sel ? [sel] : [])
    .join('path')
    .attr('class', 'selection')
    .attr('d', (poly) => 'M' + poly.map((p) => `${x(p[0])},${y(p[1])}`).join('L') + 'Z');
}
