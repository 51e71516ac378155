import { getJson } from './api';
import { lineChart } from './chart';
import { h, show } from './dom';
import type { RunComparison, SeriesPoint } from './types';

const points = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)}`;
const pText = (p: number) => (p < 0.001 ? 'p < 0.001' : `p = ${p.toFixed(3)}`);

/** One metric of several runs on one chart: a series per run, aligned by step. */
function overlay(
  runs: RunComparison['runs'],
  phase: 'sft' | 'grpo',
  metric: string,
  title: string,
  yLabel: string,
): HTMLElement | null {
  if (!runs.some((r) => r[phase].some((p) => p[metric] !== undefined))) return null;
  const bySteps = new Map<number, SeriesPoint>();
  runs.forEach((run, i) => {
    for (const p of run[phase]) {
      const point = bySteps.get(p.step) ?? { step: p.step };
      if (p[metric] !== undefined) point[`r${i}`] = p[metric];
      bySteps.set(p.step, point);
    }
  });
  return lineChart({
    title,
    yLabel,
    points: [...bySteps.values()].sort((a, b) => a.step - b.step),
    metrics: runs.map((r, i) => ({ key: `r${i}`, label: r.name ?? r.runId })),
  });
}

/** Two or more runs side by side: config diff, overlaid curves, paired changes on shared held-out items. */
export async function compareView(
  main: HTMLElement,
  params: URLSearchParams,
  signal: AbortSignal,
): Promise<void> {
  const ids = params.getAll('run');
  const query = new URLSearchParams(ids.map((id) => ['run', id]));
  const { body: cmp } = await getJson<RunComparison>(`/compare?${query}`, signal);
  const charts = [
    overlay(cmp.runs, 'sft', 'loss', 'SFT loss', 'loss'),
    overlay(cmp.runs, 'grpo', 'rewardMean', 'GRPO reward mean', 'reward'),
    overlay(cmp.runs, 'grpo', 'kl', 'GRPO KL to the reference', 'KL'),
    overlay(cmp.runs, 'grpo', 'gradNorm', 'GRPO gradient norm', 'grad norm'),
  ].filter((c): c is HTMLElement => c !== null);
  const [baseline] = cmp.runs;
  show(
    main,
    h('h1', {}, 'Compare runs'),
    h(
      'ol',
      { class: 'compared' },
      ...cmp.runs.map((r, i) =>
        h(
          'li',
          {},
          h('a', { href: `#/runs/${encodeURIComponent(r.runId)}` }, r.name ?? r.runId),
          ` · ${r.runId} · seed ${r.seed ?? '–'} · ${r.events} events`,
          i === 0 ? h('strong', {}, ' (baseline)') : null,
        ),
      ),
    ),
    h(
      'section',
      {},
      h('h2', {}, 'Config differences'),
      cmp.configDiff.length === 0
        ? h('p', {}, 'The configs are identical.')
        : h(
            'div',
            { class: 'table-scroll' },
            h(
              'table',
              { class: 'config-diff' },
              h(
                'thead',
                {},
                h(
                  'tr',
                  {},
                  h('th', { scope: 'col' }, 'key'),
                  ...cmp.runs.map((r) => h('th', { scope: 'col' }, r.name ?? r.runId)),
                ),
              ),
              h(
                'tbody',
                {},
                ...cmp.configDiff.map((row) =>
                  h(
                    'tr',
                    {},
                    h('th', { scope: 'row' }, h('code', {}, row.key)),
                    ...row.values.map((v) =>
                      h('td', {}, v === null ? h('span', { class: 'muted' }, '(absent)') : h('code', {}, v)),
                    ),
                  ),
                ),
              ),
            ),
          ),
    ),
    h(
      'section',
      {},
      h('h2', {}, 'Training curves'),
      charts.length > 0
        ? h('div', { class: 'charts' }, ...charts)
        : h('p', {}, 'No training steps recorded.'),
    ),
    h(
      'section',
      {},
      h('h2', {}, `Paired change against ${baseline.name ?? baseline.runId}`),
      h(
        'p',
        { class: 'muted' },
        'On the items both runs were graded on at each stage: the difference in accuracy with its 95% Newcombe interval (paired, hybrid score) and the exact McNemar p, as the run report computes them. The strict grader where both runs recorded it.',
      ),
      cmp.changes.length === 0
        ? h('p', {}, 'The runs share no evaluated suite and stage.')
        : h(
            'div',
            { class: 'table-scroll' },
            h(
              'table',
              { class: 'paired-changes' },
              h(
                'thead',
                {},
                h(
                  'tr',
                  {},
                  ...[
                    'suite',
                    'stage',
                    'run',
                    'grader',
                    'change (points) [95% CI]',
                    'paired items',
                    'gained',
                    'lost',
                    'McNemar',
                  ].map((c) => h('th', { scope: 'col' }, c)),
                ),
              ),
              h(
                'tbody',
                {},
                ...cmp.changes.map((c) =>
                  h(
                    'tr',
                    {},
                    h('td', {}, c.suite),
                    h('td', {}, c.stage),
                    h('td', {}, c.runId),
                    h('td', {}, c.verdict === 'exact' ? 'strict' : 'headline'),
                    h(
                      'td',
                      { class: 'num' },
                      `${points(c.change.difference)} [${points(c.change.low)}, ${points(c.change.high)}]`,
                    ),
                    h('td', { class: 'num' }, c.change.items),
                    h('td', { class: 'num' }, c.change.secondOnly),
                    h('td', { class: 'num' }, c.change.firstOnly),
                    h('td', { class: 'num' }, pText(c.change.pValue)),
                  ),
                ),
              ),
            ),
          ),
    ),
  );
}
