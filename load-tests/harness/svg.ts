/**
 * A dependency-free SVG chart: linear axes with round ticks, line and dot series, a legend.
 * Enough for latency plots, small enough to read (a charting package would pull a DOM or canvas).
 */

export interface Series {
  label: string;
  color: string;
  kind: 'line' | 'dots';
  points: Array<[number, number]>;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Replaces the x ticks (value, label), e.g. for a percentile axis. */
  xTicks?: Array<[number, string]>;
  width?: number;
  height?: number;
}

const MARGIN = { left: 64, right: 16, bottom: 48 };
const LEGEND_ROW = 14;

export function escapeXml(text: string): string {
  return text.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!,
  );
}

/** Round tick values (1, 2, 5 × 10^k) covering [0, max]. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * power >= raw) ?? 10) * power;
  const ticks: number[] = [];
  for (let v = 0; v < max + step - 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

const fmt = (v: number) => (Math.abs(v) >= 1000 ? `${v / 1000}k` : String(v));
const num = (v: number) => (Math.round(v * 10) / 10).toString();

export function chart(options: ChartOptions): string {
  const width = options.width ?? 760;
  const height = options.height ?? 360;
  // Legend under the title, wrapped into rows, each entry as wide as its label.
  const legend: Array<{ x: number; y: number; s: Series }> = [];
  let lx = MARGIN.left;
  let ly = 34;
  for (const s of options.series) {
    // An unlabelled series (dots drawn over a line of the same data) has no legend entry.
    if (!s.label) continue;
    const w = 18 + s.label.length * 6.2 + 14;
    if (lx + w > width - MARGIN.right && lx > MARGIN.left) [lx, ly] = [MARGIN.left, ly + LEGEND_ROW];
    legend.push({ x: lx, y: ly, s });
    lx += w;
  }
  const top = ly + 18;
  const M = { ...MARGIN, top };
  const plotW = width - M.left - M.right;
  const plotH = height - M.top - M.bottom;
  const all = options.series.flatMap((s) => s.points);
  const xMax = Math.max(...(options.xTicks?.map(([v]) => v) ?? []), ...all.map(([x]) => x), 1e-9);
  const yTicks = niceTicks(Math.max(...all.map(([, y]) => y), 0));
  const yMax = yTicks.at(-1)!;
  const xTicks = options.xTicks ?? niceTicks(xMax).map((v): [number, string] => [v, fmt(v)]);
  const xSpan = Math.max(xMax, xTicks.at(-1)?.[0] ?? 0) || 1;
  const sx = (x: number) => M.left + (x / xSpan) * plotW;
  const sy = (y: number) => M.top + plotH - (y / yMax) * plotH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${escapeXml(options.title)}</text>`,
  ];
  for (const v of yTicks) {
    const y = num(sy(v));
    out.push(
      `<line x1="${M.left}" x2="${width - M.right}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`,
      `<text x="${M.left - 6}" y="${y}" dy="4" text-anchor="end">${fmt(v)}</text>`,
    );
  }
  for (const [v, label] of xTicks) {
    const x = num(sx(v));
    out.push(
      `<line x1="${x}" x2="${x}" y1="${M.top + plotH}" y2="${M.top + plotH + 4}" stroke="#333"/>`,
      `<text x="${x}" y="${M.top + plotH + 16}" text-anchor="middle">${escapeXml(label)}</text>`,
    );
  }
  out.push(
    `<path d="M${M.left} ${M.top}V${M.top + plotH}H${width - M.right}" fill="none" stroke="#333"/>`,
    `<text x="${M.left + plotW / 2}" y="${height - 10}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
    `<text transform="translate(14 ${M.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`,
  );
  for (const s of options.series) {
    if (s.points.length === 0) continue;
    if (s.kind === 'line') {
      const d = s.points.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${num(sx(x))} ${num(sy(y))}`).join('');
      out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.5"/>`);
    } else {
      const dots = s.points.map(([x, y]) => `<circle cx="${num(sx(x))}" cy="${num(sy(y))}" r="1.6"/>`);
      out.push(`<g fill="${s.color}" fill-opacity="0.55">${dots.join('')}</g>`);
    }
  }
  for (const { x, y, s } of legend) {
    out.push(
      s.kind === 'line'
        ? `<line x1="${x}" x2="${x + 14}" y1="${y}" y2="${y}" stroke="${s.color}" stroke-width="2"/>`
        : `<circle cx="${x + 7}" cy="${y}" r="3" fill="${s.color}"/>`,
      `<text x="${x + 18}" y="${y}" dy="4">${escapeXml(s.label)}</text>`,
    );
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
