// Pool figures over time as an inline SVG line chart. Built with createElementNS (no markup strings);
// every series has a text legend and a dash pattern, so colour is never the only cue.
import { h, svg } from './dom.js';

const W = 640;
const H = 220;
const PAD = { left: 36, right: 12, top: 12, bottom: 28 };

export const SERIES = [
  { key: 'ready', label: 'Ready', color: '#1d6b38', dash: '' },
  { key: 'warming', label: 'Warming', color: '#9a5b00', dash: '6 3' },
  { key: 'held', label: 'Held', color: '#0b55a8', dash: '2 3' },
  { key: 'max_total', label: 'max_total', color: '#5a5a5a', dash: '10 4' },
  { key: 'min_ready', label: 'min_ready', color: '#8a2b8a', dash: '1 5' },
];

/**
 * @param {{ at: string, ready: number, warming: number, held: number, max_total: number, min_ready: number }[]} samples oldest first
 * @param {string} name pool name, for the accessible description
 */
export function poolChart(samples, name) {
  if (samples.length === 0) {
    return h('p', { class: 'muted' }, 'No samples yet: the broker records the figures every few seconds.');
  }
  const t0 = Date.parse(samples[0].at);
  const t1 = Math.max(Date.parse(samples.at(-1).at), t0 + 1000);
  const top = Math.max(1, ...samples.flatMap((s) => SERIES.map((series) => s[series.key])));
  const x = (at) => PAD.left + ((Date.parse(at) - t0) / (t1 - t0)) * (W - PAD.left - PAD.right);
  const y = (v) => H - PAD.bottom - (v / top) * (H - PAD.top - PAD.bottom);
  const last = samples.at(-1);
  const summary =
    `${name} over the last ${Math.max(1, Math.round((t1 - t0) / 60000))} min: now ` +
    SERIES.map((s) => `${s.label} ${last[s.key]}`).join(', ');

  const grid = [0, Math.round(top / 2), top].map((v) => [
    svg('line', { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v), class: 'grid' }),
    svg('text', { x: PAD.left - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' }, String(v)),
  ]);
  const lines = SERIES.map((s) =>
    svg('polyline', {
      points: samples.map((p) => `${x(p.at).toFixed(1)},${y(p[s.key]).toFixed(1)}`).join(' '),
      fill: 'none',
      stroke: s.color,
      'stroke-width': 2,
      'stroke-dasharray': s.dash || undefined,
      'data-series': s.key,
    }),
  );
  const fmt = (ms) => new Date(ms).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  const axis = [
    svg('text', { x: PAD.left, y: H - 8, class: 'axis' }, fmt(t0)),
    svg('text', { x: W - PAD.right, y: H - 8, 'text-anchor': 'end', class: 'axis' }, fmt(t1)),
  ];
  const chart = svg(
    'svg',
    { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': summary, class: 'chart' },
    svg('title', {}, summary),
    grid,
    lines,
    axis,
  );
  const legend = h(
    'ul',
    { class: 'legend', 'aria-hidden': 'true' },
    SERIES.map((s) =>
      h(
        'li',
        {},
        svg(
          'svg',
          { width: 28, height: 10, viewBox: '0 0 28 10' },
          svg('line', {
            x1: 0,
            x2: 28,
            y1: 5,
            y2: 5,
            stroke: s.color,
            'stroke-width': 2,
            'stroke-dasharray': s.dash || undefined,
          }),
        ),
        s.label,
      ),
    ),
  );
  return h('figure', { class: 'chart-figure' }, chart, legend);
}
