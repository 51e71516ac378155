import type { PayloadOf } from '@recon/contracts';
import type { RecordedEvent } from '@recon/eventlog';
import { num, payloadsOf, pct } from './report-format';
import { dataQualitySection } from './report-data-quality';
import { completeInfoSection, gameDecodings, gtbenchSection } from './report-games';
import { problemSuites, problemSuiteSection, recordedBaselines } from './report-problems';
import { samplesSection } from './report-samples';

const STAGES = ['untrained', 'sft', 'grpo'] as const;

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
/** `; resumed 2 time(s), last by ann with code 0123abcd4567` for an evaluation that was stopped and resumed. */
function resumptions(events: readonly RecordedEvent[]): string {
  const resumed = payloadsOf(events, 'external.evaluation.resumed');
  if (resumed.length === 0) return '';
  const last = resumed[resumed.length - 1];
  return `; resumed ${resumed.length} time(s), last by ${last.requestedBy} with code ${last.codeVersion}`;
}

function rewardTrend(grpo: ReadonlyArray<PayloadOf<'grpo.step.completed'>>): string {
  const values = grpo.map((g) => g.rewardMean);
  if (values.length < 4)
    return `GRPO reward mean (${values.length} step(s), too few for quarter means; first step ${num(values[0], 2)} → last step ${num(values[values.length - 1], 2)})`;
  const { size, first, last } = quarterMeans(values);
  const steps = (from: number, to: number) => `steps ${grpo[from].step}–${grpo[to].step}`;
  return `GRPO reward mean (${values.length} steps; mean of the first quarter, ${steps(0, size - 1)}: ${num(first, 2)} → mean of the last quarter, ${steps(values.length - size, values.length - 1)}: ${num(last, 2)})`;
}

/** Where the report's charts are, for its links: the charts' base name next to the report (`r1` for `r1.md`). */
export interface RunReportOptions {
  chartBase?: string;
}

/**
 * The run report, built only from the run's events (so `recon report` can rebuild it at any time):
 * training curves, then the paper's tables 3-5 (held-out accuracy by category under the strict and the paper's
 * grader, complete-information NE frequency beside random play, GTBench win rates), each with its n, baselines
 * and 95% Wilson intervals, then sample completions per stage.
 */
export function buildRunReport(
  runId: string,
  events: readonly RecordedEvent[],
  options: RunReportOptions = {},
): string {
  const request = events.find((e) => e.type === 'run.requested')?.payload;
  const initialised = events.find((e) => e.type === 'policy.initialised')?.payload;
  const resolved = events.find((e) => e.type === 'dataset.resolved')?.payload;
  const sft = payloadsOf(events, 'sft.step.completed');
  const grpo = payloadsOf(events, 'grpo.step.completed');
  const completed = payloadsOf(events, 'evaluation.completed');
  const evaluations = new Map(completed.map((p) => [p.stage, p.results] as const));
  // A resumed evaluation may have failed before it completed: the last of these events tells its status.
  const lifecycle = [...events]
    .reverse()
    .find((e) => ['run.failed', 'run.completed', 'external.evaluation.resumed'].includes(e.type));
  const failed = lifecycle?.type === 'run.failed' ? lifecycle.payload : undefined;
  const external = events.find((e) => e.type === 'external.evaluation.requested')?.payload;
  const first = events[0]?.occurredAt;
  const last = events[events.length - 1]?.occurredAt;
  // The built-in stages in their order, then any other evaluated stage (e.g. `external` of `recon eval`).
  const evaluated = new Set<string>([
    ...evaluations.keys(),
    ...events
      .filter((e) => e.type === 'evaluation.item.scored' || e.type === 'game.finished')
      .map((e) => (e.payload as { stage: string }).stage),
  ]);
  const stages = [
    ...STAGES.filter((s) => evaluated.has(s)),
    ...[...evaluated].filter((s) => !(STAGES as readonly string[]).includes(s)),
  ];
  const evalSets = (resolved?.datasets ?? []).filter((d) => d.role === 'eval');
  const config = request?.config as { evaluation?: { heldOut?: { items?: number } } } | undefined;

  const out: string[] = [`# Recon run ${runId}${request ? ` — ${request.name}` : ''}`, ''];
  out.push(
    `- status: ${failed ? `**failed** in ${failed.phase}: ${failed.error}` : lifecycle?.type === 'run.completed' ? 'completed' : 'in progress'}`,
    `- requested by ${(request ?? external)?.requestedBy ?? '?'} at ${first ?? '?'}; last event ${last ?? '?'}; code ${(request ?? external)?.codeVersion ?? '?'}; seed ${(request ?? external)?.seed ?? '?'}`,
    `- backend: ${initialised?.backend.name ?? '–'}; tokenizer ${initialised?.tokenizerHash.slice(0, 12) ?? '–'}; model ${initialised ? JSON.stringify(initialised.modelConfig) : '–'}`,
    `- datasets: ${resolved?.datasets.map((d) => `${d.role}=${d.name} (${d.rowCount} rows, ${d.versionHash.slice(0, 12)})`).join('; ') ?? '–'}`,
    `- events: ${events.length}`,
    '',
  );
  if (external)
    out.splice(
      out.length - 1,
      0,
      `- external model: ${external.policy.model} at ${external.policy.baseUrl}; suites ${external.suites.join(', ')}${resumptions(events)}`,
      `- requests: ${events.filter((e) => e.type === 'external.request.sent').length} sent, ${events.filter((e) => e.type === 'external.response.received' && e.payload.outcome === 'ok').length} answered`,
    );

  out.push(...dataQualitySection(events));
  out.push('## Training', '');
  const chart = (name: string, title: string) =>
    options.chartBase ? [`![${title}](${options.chartBase}.${name}.svg)`, ''] : [];
  if (sft.length > 0)
    out.push(
      `SFT loss (${sft.length} steps, ${num(sft[0].loss)} → ${num(sft[sft.length - 1].loss)}): \`${sparkline(sft.map((s) => s.loss))}\``,
      '',
      ...chart('sft-loss', 'SFT loss per step'),
    );
  if (grpo.length > 0) {
    out.push(
      `${rewardTrend(grpo)}: \`${sparkline(grpo.map((g) => g.rewardMean))}\``,
      '',
      ...chart('grpo-reward', 'GRPO reward mean per step'),
      `GRPO KL (${num(grpo[grpo.length - 1].kl, 4)} at the end): \`${sparkline(grpo.map((g) => g.kl))}\``,
      '',
      ...chart('grpo-kl', 'GRPO KL per step'),
      `GRPO groups with zero reward std: ${pct(grpo.reduce((n, g) => n + (g.metrics.fracRewardZeroStd ?? 0), 0) / grpo.length)} on average`,
      '',
    );
  }

  const problems = {
    events,
    stages,
    results: evaluations,
    baselines: recordedBaselines(completed),
    evalSets,
    heldOutItems: config?.evaluation?.heldOut?.items,
    // The same draw at every stage: each suite's first recorded one.
    samples: completed
      .flatMap((p) => ('samples' in p ? (p.samples ?? []) : []))
      .filter((sample, i, all) => all.findIndex((other) => other.suite === sample.suite) === i),
  };
  for (const suite of problemSuites(problems)) out.push(...problemSuiteSection(suite, problems));
  const decodings = gameDecodings(events);
  for (const decoding of decodings) out.push(...completeInfoSection(events, stages, decoding));
  for (const decoding of decodings) out.push(...gtbenchSection(events, stages, decoding));
  out.push(...samplesSection(events, stages));
  return out.join('\n');
}
