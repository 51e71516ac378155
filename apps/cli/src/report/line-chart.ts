/**
 * A small SVG line chart with axes, ticks and labels, written by hand: the report needs three static charts
 * (SFT loss, GRPO reward mean, GRPO KL) and no charting library in the tree fits a Node CLI without a DOM.
 */
export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  points: ReadonlyArray<readonly [number, number]>;
}

const WIDTH = 640;
const HEIGHT = 320;
const MARGIN = { left: 72, right: 20, top: 36, bottom: 52 };

const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** About `count` (at least) round tick values within [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi === lo) return [lo];
  const raw = (hi - lo) / Math.max(1, count - 1);
  const power = 10 ** Math.floor(Math.log10(raw));
  // The largest round step that still gives about `count` ticks (1, 2 or 5 times a power of ten, at most raw).
  const step = [5, 2, 1].map((m) => m * power).find((s) => s <= raw * (1 + 1e-9)) ?? power;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step)
    ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

const label = (value: number) => {
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e4 || magnitude < 1e-3) return value.toExponential(1);
  return String(Number(value.toPrecision(4)));
};

/** The chart as a standalone SVG document: x and y axes with ticks and labels, a title and the series as a polyline. */
export function lineChartSvg(chart: LineChart): string {
  const points = chart.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const xs = points.map(([x]) => x);
  const ys = points.map(([, y]) => y);
  let [xLo, xHi] = points.length > 0 ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  let [yLo, yHi] = points.length > 0 ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
  if (xHi === xLo) [xLo, xHi] = [xLo - 1, xHi + 1];
  if (yHi === yLo)
    [yLo, yHi] = [yLo - Math.max(1, Math.abs(yLo)) * 0.1, yHi + Math.max(1, Math.abs(yHi)) * 0.1];
  const xTicks = niceTicks(xLo, xHi, 6);
  // The y range widened to whole tick steps, so the series never runs along the frame and ticks bracket it.
  const rough = niceTicks(yLo, yHi, 5);
  if (rough.length > 1) {
    const step = rough[1] - rough[0];
    [yLo, yHi] = [Math.floor(yLo / step + 1e-9) * step, Math.ceil(yHi / step - 1e-9) * step];
  }
  const yTicks = niceTicks(yLo, yHi, 5);
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const px = (x: number) => MARGIN.left + ((x - xLo) / (xHi - xLo)) * plotW;
  const py = (y: number) => MARGIN.top + plotH - ((y - yLo) / (yHi - yLo)) * plotH;
  const f = (v: number) => v.toFixed(1);
  const bottom = MARGIN.top + plotH;
  const lines: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="11">`,
    `<title>${escapeXml(chart.title)}</title>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(chart.title)}</text>`,
    `<g class="x-axis" stroke="black"><line x1="${MARGIN.left}" y1="${bottom}" x2="${MARGIN.left + plotW}" y2="${bottom}"/></g>`,
    `<g class="y-axis" stroke="black"><line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${bottom}"/></g>`,
    ...xTicks.map(
      (t) =>
        `<g class="x-tick"><line x1="${f(px(t))}" y1="${bottom}" x2="${f(px(t))}" y2="${bottom + 5}" stroke="black"/><text x="${f(px(t))}" y="${bottom + 18}" text-anchor="middle">${label(t)}</text></g>`,
    ),
    ...yTicks.map(
      (t) =>
        `<g class="y-tick"><line x1="${MARGIN.left - 5}" y1="${f(py(t))}" x2="${MARGIN.left}" y2="${f(py(t))}" stroke="black"/><line x1="${MARGIN.left}" y1="${f(py(t))}" x2="${MARGIN.left + plotW}" y2="${f(py(t))}" stroke="#e4e4e4"/><text x="${MARGIN.left - 8}" y="${f(py(t) + 4)}" text-anchor="end">${label(t)}</text></g>`,
    ),
    `<text class="x-label" x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 12}" text-anchor="middle">${escapeXml(chart.xLabel)}</text>`,
    `<text class="y-label" x="16" y="${MARGIN.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 16 ${MARGIN.top + plotH / 2})">${escapeXml(chart.yLabel)}</text>`,
  ];
  if (points.length === 1)
    lines.push(`<circle cx="${f(px(points[0][0]))}" cy="${f(py(points[0][1]))}" r="3" fill="#1f5fbf"/>`);
  else if (points.length > 1)
    lines.push(
      `<polyline class="series" fill="none" stroke="#1f5fbf" stroke-width="1.5" points="${points.map(([x, y]) => `${f(px(x))},${f(py(y))}`).join(' ')}"/>`,
    );
  lines.push('</svg>');
  return `${lines.join('\n')}\n`;
}
