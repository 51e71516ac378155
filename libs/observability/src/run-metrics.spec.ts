import { Registry } from 'prom-client';
import type { RecordedEvent } from '@recon/eventlog';
import { createMetrics } from './metrics';
import { recordRunEvent } from './run-metrics';

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
});
