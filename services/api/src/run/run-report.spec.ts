import type { RecordedEvent } from '@recon/eventlog';
import { buildRunReport, quarterMeans } from './run-report';

/** Just what the report reads of a recorded event. */
function grpoSteps(rewards: number[]): RecordedEvent[] {
  return rewards.map(
    (rewardMean, i) =>
      ({
        type: 'grpo.step.completed',
        occurredAt: '2026-01-01T00:00:00.000Z',
        payload: {
          step: i + 1,
          loss: 0,
          learningRate: 1e-5,
          gradNorm: 1,
          rewardMean,
          rewardStd: 0,
          kl: 0.01,
          metrics: {},
        },
      }) as unknown as RecordedEvent,
  );
}

const rewardLine = (report: string) => report.split('\n').find((line) => line.startsWith('GRPO reward mean'));

describe('quarterMeans', () => {
  it('averages the first and last quarter of a series, at least one value each', () => {
    expect(quarterMeans([1, 2, 3, 4, 5, 6, 7, 8])).toEqual({ size: 2, first: 1.5, last: 7.5 });
    expect(quarterMeans([1, 2, 3, 4, 5, 6, 7, 8, 9])).toEqual({ size: 2, first: 1.5, last: 8.5 });
    expect(quarterMeans([4, 9])).toEqual({ size: 1, first: 4, last: 9 });
  });
});

describe('run report: the GRPO reward trend', () => {
  it('compares the means of the first and last quarter of steps, not two single noisy steps', () => {
    // Single steps would say 0.90 → 0.10; the quarters say the reward rose.
    const rewards = [0.9, 0.1, 0.1, 0.1, 0.3, 0.4, 0.4, 0.5, 0.6, 0.7, 0.8, 0.1];
    expect(rewardLine(buildRunReport('r', grpoSteps(rewards)))).toMatch(
      /^GRPO reward mean \(12 steps; mean of the first quarter, steps 1–3: 0\.37 → mean of the last quarter, steps 10–12: 0\.53\): `.+`$/,
    );
  });

  it('says so when there are too few steps for quarters', () => {
    expect(rewardLine(buildRunReport('r', grpoSteps([0.2, 0.6])))).toMatch(
      /^GRPO reward mean \(2 step\(s\), too few for quarter means; first step 0\.20 → last step 0\.60\): `.+`$/,
    );
  });
});
