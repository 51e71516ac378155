import { Registry } from 'prom-client';
import type { RecordedEvent } from '@recon/eventlog';
import { createMetrics } from './metrics';
import { followRunMetrics, recordRunEvent } from './run-metrics';

const event = (type: string, payload: unknown, meta: Record<string, unknown> = {}) =>
  ({ type, payload, meta, streamId: 'run-1' }) as unknown as RecordedEvent;

describe('recordRunEvent', () => {
  it('turns training, rollout, reward and evaluation events into their metrics', async () => {
    const metrics = createMetrics(new Registry(), 'test');
    recordRunEvent(
      metrics,
      event(
        'sft.step.completed',
        {
          step: 3,
          loss: 1.5,
          learningRate: 0.001,
          gradNorm: 0.7,
          tokens: 500,
          examples: 8,
          dataPosition: 24,
          metrics: {},
        },
        { stepTimeMs: 250 },
      ),
    );
    recordRunEvent(
      metrics,
      event('grpo.step.completed', {
        step: 2,
        loss: 0.1,
        learningRate: 5e-6,
        gradNorm: 0.05,
        rewardMean: 1,
        rewardStd: 2,
        kl: 0.02,
        metrics: {},
      }),
    );
    recordRunEvent(
      metrics,
      event(
        'rollout.generated',
        { rolloutId: '2/row-1/0', step: 2, completionTokens: 40 },
        { generationMs: 900, batchIndex: 0 },
      ),
    );
    recordRunEvent(
      metrics,
      event(
        'rollout.generated',
        { rolloutId: '2/row-1/1', step: 2, completionTokens: 20 },
        { generationMs: 900, batchIndex: 1 },
      ),
    );
    recordRunEvent(
      metrics,
      event(
        'reward.scored',
        { rewardId: 'recon-hierarchical', total: 5, components: { format: 0.75, correctness: 5 } },
        { durationMs: 0.02 },
      ),
    );
    recordRunEvent(
      metrics,
      event('reward.failed', { rolloutId: 'r', step: 2, rewardId: 'concise-correct', rewardVersion: '1.0.0', error: 'x' }),
    );
    recordRunEvent(
      metrics,
      event('evaluation.completed', {
        stage: 'sft',
        checkpointHash: 'x',
        results: {
          'held-out.accuracy': 0.4,
          'held-out.category.pure_nash.accuracy': 0.3,
          'complete-info.Stag Hunt.ne': 0.5,
          'gtbench.nim.mcts.winRate': 0.25,
          'gtbench.overall.mcts.winRate': 0.2,
        },
      }),
    );
    const text = await metrics.registry.metrics();
    expect(text).toContain('recon_training_loss{run="run-1",phase="sft",service="test"} 1.5');
    expect(text).toContain('recon_training_tokens_per_second{run="run-1",phase="sft",service="test"} 2000');
    expect(text).toContain('recon_training_kl{run="run-1",service="test"} 0.02');
    expect(text).toContain('recon_rollout_tokens_total{run="run-1",service="test"} 60');
    expect(text).toContain('recon_rollout_latency_seconds_count{service="test",run="run-1"} 1');
    expect(text).toContain(
      'recon_reward_score_count{service="test",reward_id="recon-hierarchical",component="correctness"} 1',
    );
    expect(text).toContain('recon_reward_failures_total{reward_id="concise-correct",service="test"} 1');
    expect(text).toContain(
      'recon_eval_accuracy{run="run-1",suite="held-out",stage="sft",category="all",service="test"} 0.4',
    );
    expect(text).toContain(
      'recon_eval_accuracy{run="run-1",suite="held-out",stage="sft",category="pure_nash",service="test"} 0.3',
    );
    expect(text).toContain(
      'recon_game_equilibrium_frequency{run="run-1",stage="sft",game="Stag Hunt",service="test"} 0.5',
    );
    expect(text).toContain(
      'recon_game_win_rate{run="run-1",stage="sft",game="nim",opponent="mcts",service="test"} 0.25',
    );
    expect(text).not.toContain('game="overall"');
  });

  it("removes a run's series once it ended and its time to live passed, and keeps the other runs'", async () => {
    const metrics = createMetrics(new Registry(), 'test');
    let deliver: (e: RecordedEvent) => Promise<void> = async () => undefined;
    const bus = {
      subscribe: async (_options: unknown, handler: (e: RecordedEvent) => Promise<void>) => {
        deliver = handler;
        return { stop: async () => undefined };
      },
    };
    const follower = await followRunMetrics(bus, metrics, 'metrics', 0);
    const at = (runId: string, type: string, payload: unknown, position: number) =>
      ({ ...event(type, payload, { generationMs: 10, batchIndex: 0 }), streamId: runId, globalPosition: position, occurredAt: '2026-01-01T00:00:00.000Z' }) as RecordedEvent;
    const step = { step: 1, loss: 1, learningRate: 1, gradNorm: 1, tokens: 1, examples: 1, dataPosition: 1, metrics: {} };
    await deliver(at('run-a', 'sft.step.completed', step, 1));
    await deliver(at('run-a', 'rollout.generated', { rolloutId: 'x', step: 1, completionTokens: 3 }, 2));
    await deliver(at('run-b', 'sft.step.completed', step, 3));
    expect(await metrics.registry.metrics()).toContain('run="run-a"');
    await deliver(at('run-a', 'run.completed', { summary: {} }, 4));
    await new Promise((r) => setTimeout(r, 20));
    const text = await metrics.registry.metrics();
    expect(text).not.toContain('run="run-a"');
    expect(text).toContain('recon_training_loss{run="run-b",phase="sft",service="test"} 1');
    expect(follower.position()).toBe(4);
    await follower.stop();
  });
});
