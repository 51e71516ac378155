import { createHash } from 'node:crypto';
import type { NewEvent } from '@recon/eventlog';
import type { Producer } from '@recon/contracts';

export const TEST_PRODUCER: Producer = { service: 'api', version: 'test', instance: 'jest' };

const hex = (text: string) => createHash('sha256').update(text).digest('hex');

/** The blobs a synthetic run names (its checkpoint), as stored content: each one's sha256 is its hash. */
export function syntheticRunBlobs(runId: string): string[] {
  return [`checkpoint ${runId}`];
}

/** The events of a small synthetic run (no model involved): request, SFT steps, a checkpoint, rollouts, rewards, GRPO steps. */
export function syntheticRunEvents(
  runId: string,
  options: { sftSteps?: number; grpoSteps?: number } = {},
): NewEvent[] {
  const sftSteps = options.sftSteps ?? 5;
  const grpoSteps = options.grpoSteps ?? 3;
  const events: NewEvent[] = [
    {
      type: 'run.requested',
      payload: {
        name: `synthetic ${runId}`,
        config: { sft: { steps: sftSteps }, grpo: { steps: grpoSteps } },
        configHash: hex(`config ${runId}`),
        seed: 42,
        requestedBy: 'test',
        codeVersion: 'test',
      },
    },
  ];
  for (let step = 1; step <= sftSteps; step += 1) {
    events.push({
      type: 'sft.step.completed',
      payload: {
        step,
        loss: 3 / step,
        learningRate: 2e-4,
        gradNorm: 1 / step,
        tokens: 512,
        examples: 8,
        dataPosition: step * 8,
        metrics: { perplexity: Math.exp(3 / step) },
      },
    });
  }
  const checkpoint = hex(`checkpoint ${runId}`);
  events.push({
    type: 'checkpoint.saved',
    payload: {
      phase: 'sft',
      step: sftSteps,
      checkpointHash: checkpoint,
      weightsHash: checkpoint,
      sizeBytes: 1024,
    },
  });
  for (let step = 1; step <= grpoSteps; step += 1) {
    for (let g = 0; g < 2; g += 1) {
      const rolloutId = `${step}-p1-${g}`;
      events.push({
        type: 'rollout.generated',
        payload: {
          rolloutId,
          step,
          promptId: 'p1',
          groupIndex: g,
          policyVersion: checkpoint,
          seed: step * 10 + g,
          completion: `<think>step ${step}</think> \\boxed{Option ${g + 1}}`,
          completionTokens: 12,
          truncated: false,
          finishReason: 'stop',
        },
      });
      events.push({
        type: 'reward.scored',
        payload: {
          rolloutId,
          step,
          rewardId: 'recon-hierarchical',
          rewardVersion: '1',
          total: g === 0 ? 5 : -3,
          components: { format: 0.75, correctness: g === 0 ? 5 : -3 },
        },
      });
    }
    events.push({
      type: 'grpo.step.completed',
      payload: {
        step,
        loss: 0.1,
        learningRate: 5e-6,
        gradNorm: 0.05,
        rewardMean: 1,
        rewardStd: 4,
        kl: 0.01,
        metrics: {},
      },
    });
  }
  events.push({
    type: 'evaluation.item.scored',
    payload: {
      suite: 'recon-eval',
      stage: 'grpo',
      itemId: 'eval-1',
      category: 'Pure Nash',
      completion: '\\boxed{[[0, 1]]}',
      parsedAnswer: '[[0, 1]]',
      gold: '[[0, 1]]',
      correct: true,
      verdicts: { exact: true, paper: true },
    },
  });
  events.push({ type: 'run.completed', payload: { summary: { accuracy: 1 } } });
  return events;
}
