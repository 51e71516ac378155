import type { PayloadOf } from '@recon/contracts';
import { auditStream, type RecordedEvent } from '@recon/eventlog';
import { parseExperimentConfig, type ExperimentConfig } from '@recon/experiment';
import { buildRunReport } from '@recon/run-report';
import { runToEnd, startEmbeddedDeployment, type EmbeddedDeployment } from '../support/embedded-deployment';
import { payloadFingerprint, REPRODUCIBLE_TYPES } from '../support/run-events';
import { tinyRunConfig, type TinyRunOverrides } from '../support/tiny-run-config';

const TINY: TinyRunOverrides = {
  sft: { steps: 6, schedule: 'cosine', warmupSteps: 1 },
  grpo: { maxCompletionTokens: 24 },
  evaluation: {
    maxNewTokens: 24,
    heldOut: { items: 20 },
    completeInformation: { trials: 1 },
    gtbench: { matches: 1, opponents: ['random'] },
  },
};

const REPRODUCIBLE = new Set(REPRODUCIBLE_TYPES);

describe('a run end to end on the embedded deployment (real Postgres, in-process bus, five services)', () => {
  let deployment: EmbeddedDeployment;

  beforeAll(async () => {
    deployment = await startEmbeddedDeployment();
  });
  afterAll(async () => {
    await deployment?.close();
  });

  async function run(runId: string, config: ExperimentConfig): Promise<RecordedEvent[]> {
    await runToEnd(deployment, runId, config, { timeoutMs: 170_000 });
    return deployment.platform.eventStore.readStream(runId);
  }

  const fingerprint = (events: RecordedEvent[]) => payloadFingerprint(events, REPRODUCIBLE);

  it('trains, scores and evaluates every stage, and the same config and seed reproduce every payload', async () => {
    const config = parseExperimentConfig(tinyRunConfig(TINY), 'tiny.yaml');
    const first = await run('tiny-a', config);
    const completed = first.find((e) => e.type === 'run.completed')?.payload as
      PayloadOf<'run.completed'> | undefined;
    expect(first.find((e) => e.type === 'run.failed')?.payload).toBeUndefined();
    expect(completed).toBeDefined();
    for (const stage of ['untrained', 'sft', 'grpo'])
      for (const key of ['held-out.accuracy', 'complete-info.overall.ne', 'gtbench.overall.random.winRate'])
        expect(completed!.summary[`${stage}.${key}`]).toEqual(expect.any(Number));
    const count = (type: string) => first.filter((e) => e.type === type).length;
    expect(count('sft.step.completed')).toBe(6);
    expect(count('grpo.step.completed')).toBe(2);
    expect(count('rollout.generated')).toBe(2 * 2 * 4);
    expect(count('reward.scored')).toBe(2 * 2 * 4);
    expect(count('evaluation.item.scored')).toBe(3 * 20);
    expect(count('game.finished')).toBe(3 * (10 + 10));
    const sftLosses = first
      .filter((e) => e.type === 'sft.step.completed')
      .map((e) => (e.payload as PayloadOf<'sft.step.completed'>).loss);
    expect(sftLosses[sftLosses.length - 1]).toBeLessThan(sftLosses[0]);
    expect((await auditStream(deployment.platform.pool, 'tiny-a')).ok).toBe(true);
    const report = buildRunReport('tiny-a', first);
    expect(report).toContain('Table 3');
    expect(report).toContain('Table 4');
    expect(report).toContain('Table 5');

    const second = await run('tiny-b', config);
    expect(fingerprint(second)).toEqual(fingerprint(first));
  }, 360_000);

  it('fails a run with an unusable config with a message naming the key, and leaves other runs alone', async () => {
    const config = parseExperimentConfig(
      tinyRunConfig({ ...TINY, datasets: { curriculum: { categories: ['astrology'] } } }),
      'bad.yaml',
    );
    const events = await run('tiny-bad', config);
    const failed = events.find((e) => e.type === 'run.failed')?.payload as PayloadOf<'run.failed'>;
    expect(failed).toEqual({
      phase: 'data',
      error: expect.stringMatching(/datasets\.curriculum\.categories: unknown 'astrology'/),
    });
    expect(events.some((e) => e.type === 'dataset.resolved')).toBe(false);
  }, 60_000);
});
