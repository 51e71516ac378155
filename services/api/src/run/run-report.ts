import type { PayloadOf } from '@recon/contracts';
import type { RecordedEvent } from '@recon/eventlog';
import { describeStageChange, stageChanges } from './stage-changes';

const STAGES = ['untrained', 'sft', 'grpo'] as const;
const pct = (x: number | undefined) => (x === undefined ? '–' : `${(x * 100).toFixed(1)}%`);
const num = (x: number | undefined, digits = 3) => (x === undefined ? '–' : x.toFixed(digits));

/** A unicode sparkline of a series, so trends show in a terminal and in plain markdown. */
export function sparkline(values: readonly number[], width = 60): string {
  if (values.length === 0) return '';
  const bars = '▁▂▃▄▅▆▇█';
  const step = Math.max(1, Math.ceil(values.length / width));
  const points: number[] = [];
  for (let i = 0; i < values.length; i += step) {
    const chunk = values.slice(i, i + step);
    points.push(chunk.reduce((a, b) => a + b, 0) / chunk.length);
  }
  const lo = Math.min(...points);
  const hi = Math.max(...points);
  return points.map((v) => bars[hi === lo ? 3 : Math.round(((v - lo) / (hi - lo)) * 7)]).join('');
}

/**
 * The start and end of a series as means over its first and last quarter (at least one value each): a single
 * step's value is noisy (a GRPO step scores a few prompts), so comparing two single steps says little.
 */
export function quarterMeans(values: readonly number[]): { size: number; first: number; last: number } {
  const size = Math.max(1, Math.floor(values.length / 4));
  const mean = (part: readonly number[]) => part.reduce((a, b) => a + b, 0) / part.length;
  return { size, first: mean(values.slice(0, size)), last: mean(values.slice(-size)) };
}

/** How the GRPO reward mean moved, said as what it is: quarter means, or single steps when there are too few. */
function rewardTrend(grpo: ReadonlyArray<PayloadOf<'grpo.step.completed'>>): string {
  const values = grpo.map((g) => g.rewardMean);
  if (values.length < 4)
    return `GRPO reward mean (${values.length} step(s), too few for quarter means; first step ${num(values[0], 2)} → last step ${num(values[values.length - 1], 2)})`;
  const { size, first, last } = quarterMeans(values);
  const steps = (from: number, to: number) => `steps ${grpo[from].step}–${grpo[to].step}`;
  return `GRPO reward mean (${values.length} steps; mean of the first quarter, ${steps(0, size - 1)}: ${num(first, 2)} → mean of the last quarter, ${steps(values.length - size, values.length - 1)}: ${num(last, 2)})`;
}

function table(head: string[], rows: string[][]): string {
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

/**
 * The run report, built only from the run's events (so `recon report` can rebuild it at any time):
 * training curves, then the paper's tables 3-5 (held-out accuracy by category, complete-information NE
 * frequency, GTBench win rates), each with trial counts, baselines and 95% Wilson intervals.
 */
export function buildRunReport(runId: string, events: readonly RecordedEvent[]): string {
  const request = events.find((e) => e.type === 'run.requested')?.payload as
    PayloadOf<'run.requested'> | undefined;
  const initialised = events.find((e) => e.type === 'policy.initialised')?.payload as
    PayloadOf<'policy.initialised'> | undefined;
  const resolved = events.find((e) => e.type === 'dataset.resolved')?.payload as
    PayloadOf<'dataset.resolved'> | undefined;
  const sft = events
    .filter((e) => e.type === 'sft.step.completed')
    .map((e) => e.payload as PayloadOf<'sft.step.completed'>);
  const grpo = events
    .filter((e) => e.type === 'grpo.step.completed')
    .map((e) => e.payload as PayloadOf<'grpo.step.completed'>);
  const evaluations = new Map(
    events
      .filter((e) => e.type === 'evaluation.completed')
      .map((e) => {
        const p = e.payload as PayloadOf<'evaluation.completed'>;
        return [p.stage, p.results] as const;
      }),
  );
  const failed = events.find((e) => e.type === 'run.failed')?.payload as PayloadOf<'run.failed'> | undefined;
  const first = events[0]?.occurredAt;
  const last = events[events.length - 1]?.occurredAt;
  // The built-in stages in their order, then any other evaluated stage (e.g. `external` of `recon eval`).
  const stages = [
    ...STAGES.filter((s) => evaluations.has(s)),
    ...[...evaluations.keys()].filter((s) => !(STAGES as readonly string[]).includes(s)),
  ];
  const r = (stage: string, key: string) => evaluations.get(stage)?.[key];

  const out: string[] = [`# Recon run ${runId}${request ? ` — ${request.name}` : ''}`, ''];
  out.push(
    `- status: ${failed ? `**failed** in ${failed.phase}: ${failed.error}` : events.some((e) => e.type === 'run.completed') ? 'completed' : 'in progress'}`,
    `- requested by ${request?.requestedBy ?? '?'} at ${first ?? '?'}; last event ${last ?? '?'}; code ${request?.codeVersion ?? '?'}; seed ${request?.seed ?? '?'}`,
    `- backend: ${initialised?.backend.name ?? '–'}; tokenizer ${initialised?.tokenizerHash.slice(0, 12) ?? '–'}; model ${initialised ? JSON.stringify(initialised.modelConfig) : '–'}`,
    `- datasets: ${resolved?.datasets.map((d) => `${d.role}=${d.name} (${d.rowCount} rows, ${d.versionHash.slice(0, 12)})`).join('; ') ?? '–'}`,
    `- events: ${events.length}`,
    '',
  );
  const external = events.find((e) => e.type === 'external.evaluation.requested')?.payload as
    PayloadOf<'external.evaluation.requested'> | undefined;
  if (external)
    out.splice(
      out.length - 1,
      0,
      `- external model: ${external.policy.model} at ${external.policy.baseUrl}; suites ${external.suites.join(', ')}; seed ${external.seed}; requested by ${external.requestedBy}; code ${external.codeVersion}`,
      `- requests: ${events.filter((e) => e.type === 'external.request.sent').length} sent, ${events.filter((e) => e.type === 'external.response.received' && (e.payload as PayloadOf<'external.response.received'>).outcome === 'ok').length} answered`,
    );

  out.push('## Training', '');
  if (sft.length > 0)
    out.push(
      `SFT loss (${sft.length} steps, ${num(sft[0].loss)} → ${num(sft[sft.length - 1].loss)}): \`${sparkline(sft.map((s) => s.loss))}\``,
      '',
    );
  if (grpo.length > 0) {
    out.push(
      `${rewardTrend(grpo)}: \`${sparkline(grpo.map((g) => g.rewardMean))}\``,
      '',
      `GRPO KL (${num(grpo[grpo.length - 1].kl, 4)} at the end): \`${sparkline(grpo.map((g) => g.kl))}\``,
      '',
      `GRPO groups with zero reward std: ${pct(grpo.reduce((n, g) => n + (g.metrics.fracRewardZeroStd ?? 0), 0) / grpo.length)} on average`,
      '',
    );
  }

  for (const suite of ['held-out', 'recon-eval']) {
    if (!stages.some((s) => r(s, `${suite}.items`) !== undefined)) continue;
    out.push(`## Table 3 — ${suite} accuracy by stage`, '');
    out.push(
      table(
        ['stage', 'accuracy', '95% interval', 'correct / items', 'majority baseline'],
        stages.map((s) => [
          s,
          pct(r(s, `${suite}.accuracy`)),
          `${pct(r(s, `${suite}.accuracy.low`))} – ${pct(r(s, `${suite}.accuracy.high`))}`,
          `${r(s, `${suite}.correct`) ?? '–'} / ${r(s, `${suite}.items`) ?? '–'}`,
          pct(r(s, `${suite}.majorityBaseline`)),
        ]),
      ),
      '',
    );
    const changes = stageChanges(events, suite, stages);
    if (changes.length > 0)
      out.push(
        'Change between stages on the same items (95% Newcombe interval for paired proportions):',
        '',
        ...changes.map((c) => `- ${describeStageChange(c)}`),
        '',
      );
    const categories = [...new Set(stages.flatMap((s) => Object.keys(evaluations.get(s) ?? {})))]
      .map((k) => new RegExp(`^${suite}\\.category\\.(.+)\\.accuracy$`).exec(k)?.[1])
      .filter((c): c is string => !!c)
      .sort();
    if (categories.length > 0)
      out.push(
        table(
          ['category', 'items', ...stages],
          categories.map((c) => [
            c,
            String(r(stages[0], `${suite}.category.${c}.items`) ?? '–'),
            ...stages.map((s) => pct(r(s, `${suite}.category.${c}.accuracy`))),
          ]),
        ),
        '',
      );
  }

  const games = [...new Set(stages.flatMap((s) => Object.keys(evaluations.get(s) ?? {})))]
    .map((k) => /^complete-info\.(.+)\.ne$/.exec(k)?.[1])
    .filter((g): g is string => !!g && g !== 'overall');
  if (games.length > 0) {
    out.push(
      '## Table 4 — complete-information games, self-play: fraction of trials ending in a pure Nash equilibrium',
      '',
    );
    out.push(
      table(
        ['game', 'trials', ...stages.map((s) => `${s} (invalid)`)],
        [
          ...games.map((g) => [
            g,
            String(r(stages[0], `complete-info.${g}.trials`) ?? '–'),
            ...stages.map(
              (s) =>
                `${num(r(s, `complete-info.${g}.ne`), 2)} (${r(s, `complete-info.${g}.invalid`) ?? '–'})`,
            ),
          ]),
          [
            '**overall**',
            String(r(stages[0], 'complete-info.overall.trials') ?? '–'),
            ...stages.map(
              (s) =>
                `${num(r(s, 'complete-info.overall.ne'), 2)} [${num(r(s, 'complete-info.overall.ne.low'), 2)}, ${num(r(s, 'complete-info.overall.ne.high'), 2)}] (${r(s, 'complete-info.overall.invalid') ?? '–'})`,
            ),
          ],
        ],
      ),
      '',
    );
  }

  const cells = [...new Set(stages.flatMap((s) => Object.keys(evaluations.get(s) ?? {})))]
    .map((k) => /^gtbench\.(.+)\.([a-z-]+)\.winRate$/.exec(k))
    .filter((m): m is RegExpExecArray => !!m && m[1] !== 'overall')
    .map((m) => ({ game: m[1], opponent: m[2] }));
  if (cells.length > 0) {
    out.push('## Table 5 — GTBench win rate against fixed opponents (abnormal matches in parentheses)', '');
    out.push(
      table(
        ['game', 'opponent', 'matches', ...stages],
        cells.map(({ game, opponent }) => {
          const key = `gtbench.${game}.${opponent}`;
          return [
            game,
            opponent,
            String(r(stages[0], `${key}.matches`) ?? '–'),
            ...stages.map((s) => `${num(r(s, `${key}.winRate`), 2)} (${r(s, `${key}.abnormal`) ?? '–'})`),
          ];
        }),
      ),
      '',
    );
    const opponents = [...new Set(cells.map((c) => c.opponent))];
    out.push(
      table(
        ['overall vs', 'matches', ...stages],
        opponents.map((o) => [
          o,
          String(r(stages[0], `gtbench.overall.${o}.matches`) ?? '–'),
          ...stages.map(
            (s) =>
              `${num(r(s, `gtbench.overall.${o}.winRate`), 2)} [${num(r(s, `gtbench.overall.${o}.winRate.low`), 2)}, ${num(r(s, `gtbench.overall.${o}.winRate.high`), 2)}] (${r(s, `gtbench.overall.${o}.abnormal`) ?? '–'} abnormal)`,
          ),
        ]),
      ),
      '',
    );
  }
  return out.join('\n');
}
