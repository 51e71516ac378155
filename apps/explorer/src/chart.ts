import uPlot from 'uplot';
import { h } from './dom';
import type { SeriesPoint } from './types';

/** Tick and legend numbers: small ones (learning rates) in exponent form, not rounded to 0. */
const number = (v: number | null) =>
  v === null
    ? '–'
    : v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5)
      ? v.toExponential(1)
      : String(+v.toPrecision(4));

const COLOURS = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#0891b2'];
const DASHES = [undefined, [6, 3], [2, 3], [8, 3, 2, 3]];

export interface ChartSpec {
  title: string;
  yLabel: string;
  points: SeriesPoint[];
  metrics: Array<{ key: string; label: string }>;
  /** Called with the step under the cursor when the chart is clicked (GRPO charts open that step's groups). */
  onStep?: (step: number) => void;
}

/**
 * A line chart with labelled axes and the values under the cursor in its legend (uPlot). Series differ by
 * dash as well as colour, so they read without colour.
 */
export function lineChart(spec: ChartSpec): HTMLElement {
  const figure = h('figure', { class: 'chart', 'aria-label': spec.title });
  const data: uPlot.AlignedData = [
    spec.points.map((p) => p.step),
    ...spec.metrics.map((m) => spec.points.map((p) => (p[m.key] ?? null) as number)),
  ];
  const plot = new uPlot(
    {
      title: spec.title,
      width: 460,
      height: 220,
      scales: { x: { time: false } },
      axes: [{ label: 'step' }, { label: spec.yLabel, size: 64, values: (_u, splits) => splits.map(number) }],
      series: [
        { label: 'step' },
        ...spec.metrics.map((m, i) => ({
          label: m.label,
          stroke: COLOURS[i % COLOURS.length],
          dash: DASHES[i % DASHES.length],
          width: 1.5,
          points: { show: spec.points.length <= 60 },
          value: (_u: uPlot, v: number | null) => number(v),
        })),
      ],
    },
    data,
    figure,
  );
  if (spec.onStep) {
    const onStep = spec.onStep;
    plot.over.classList.add('clickable');
    plot.over.title = 'click: open this step’s rollouts';
    plot.over.addEventListener('click', () => {
      const index = plot.cursor.idx;
      if (index !== null && index !== undefined) onStep(spec.points[index].step);
    });
  }
  return figure;
}
