import type { RecordedEvent } from '@recon/eventlog';
import { lineChartSvg } from './line-chart';
import { payloadsOf } from '@recon/run-report';

export interface ReportChart {
  /** File suffix: the chart is written as `<report>.<name>.svg`. */
  name: 'sft-loss' | 'grpo-reward' | 'grpo-kl';
  title: string;
  svg: string;
}

/** The training curves of a run as SVG line charts: SFT loss, GRPO reward mean and GRPO KL per step. */
export function trainingCharts(events: readonly RecordedEvent[]): ReportChart[] {
  const sft = payloadsOf(events, 'sft.step.completed');
  const grpo = payloadsOf(events, 'grpo.step.completed');
  const charts: ReportChart[] = [];
  const add = (name: ReportChart['name'], title: string, yLabel: string, points: Array<[number, number]>) =>
    charts.push({ name, title, svg: lineChartSvg({ title, xLabel: 'step', yLabel, points }) });
  if (sft.length > 0)
    add(
      'sft-loss',
      'SFT loss per step',
      'loss',
      sft.map((s) => [s.step, s.loss]),
    );
  if (grpo.length > 0) {
    add(
      'grpo-reward',
      'GRPO reward mean per step',
      'reward mean',
      grpo.map((g) => [g.step, g.rewardMean]),
    );
    add(
      'grpo-kl',
      'GRPO KL to the reference per step',
      'KL',
      grpo.map((g) => [g.step, g.kl]),
    );
  }
  return charts;
}
