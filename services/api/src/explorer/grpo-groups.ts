import type { PayloadOf } from '@recon/contracts';
import type { RecordedEvent } from '@recon/eventlog';
import { combineRewards, groupAdvantages } from '@recon/policy';
import type { Platform } from '@recon/persistence';
import { payloadsOf } from '@recon/run-report';

/** One completion of a group: what was sampled, how each reward scored it, and its group-relative advantage. */
export interface GroupCompletion {
  rolloutId: string;
  groupIndex: number;
  completion: string;
  completionTokens: number;
  finishReason: string;
  truncated: boolean;
  /** The weighted sum of the reward services' totals, as the trainer combines them. */
  reward: number | null;
  /** Per reward service: its total and components. */
  rewards: Array<{
    rewardId: string;
    rewardVersion: string;
    total: number;
    components: Record<string, number>;
  }>;
  advantage: number | null;
}

export interface PromptGroup {
  promptId: string;
  /** Where the prompt comes from (the log keeps the dataset row, not the prompt text). */
  source: { datasetVersion: string; rowIndex: number; category?: string } | null;
  completions: GroupCompletion[];
}

export interface StepGroups {
  step: number;
  groupSize: number | null;
  /** How advantages were computed: the run config's grpo.scaleRewards and reward weights. */
  scaleRewards: 'group' | 'batch' | 'none';
  rewardWeights: Record<string, number>;
  groups: PromptGroup[];
  /** `recon replay --rescore` streams of the run: another reward's total for each rollout of this step. */
  rescores?: Array<{
    streamId: string;
    rewardId: string;
    rewardVersion: string;
    totals: Record<string, number>;
  }>;
}

interface GrpoSettings {
  grpo?: { scaleRewards?: 'group' | 'batch' | 'none' };
  rewards?: Array<{ id: string; weight: number }>;
}

/**
 * The rollouts of one GRPO step grouped by prompt, with rewards and advantages computed as the trainer does
 * (group mean and Bessel-corrected std, epsilon 1e-4, the config's reward weights and scaleRewards). A
 * group whose rollouts are not all scored yet has no advantages.
 */
export function stepGroups(events: readonly RecordedEvent[], step: number): StepGroups {
  const config = payloadsOf(events, 'run.requested')[0]?.config as GrpoSettings | undefined;
  const scaleRewards = config?.grpo?.scaleRewards ?? 'group';
  const rewardWeights = Object.fromEntries((config?.rewards ?? []).map((r) => [r.id, r.weight]));
  const requested = payloadsOf(events, 'rollouts.requested').find((r) => r.step === step);
  const rollouts = payloadsOf(events, 'rollout.generated').filter((r) => r.step === step);
  const scores = new Map<string, Array<PayloadOf<'reward.scored'>>>();
  for (const scored of payloadsOf(events, 'reward.scored')) {
    if (scored.step !== step) continue;
    scores.set(scored.rolloutId, [...(scores.get(scored.rolloutId) ?? []), scored]);
  }
  const byPrompt = new Map<string, Array<PayloadOf<'rollout.generated'>>>();
  for (const rollout of rollouts)
    byPrompt.set(rollout.promptId, [...(byPrompt.get(rollout.promptId) ?? []), rollout]);

  const groups: PromptGroup[] = [...byPrompt].map(([promptId, members]) => {
    members.sort((a, b) => a.groupIndex - b.groupIndex);
    const completions = members.map((rollout): GroupCompletion => {
      const rewards = (scores.get(rollout.rolloutId) ?? []).map((s) => ({
        rewardId: s.rewardId,
        rewardVersion: s.rewardVersion,
        total: s.total,
        components: s.components,
      }));
      const combined =
        rewards.length > 0
          ? combineRewards(Object.fromEntries(rewards.map((r) => [r.rewardId, [r.total]])), {
              ...Object.fromEntries(
                Object.entries(rewardWeights).filter(([id]) => rewards.some((r) => r.rewardId === id)),
              ),
            })[0]
          : null;
      return {
        rolloutId: rollout.rolloutId,
        groupIndex: rollout.groupIndex,
        completion: rollout.completion,
        completionTokens: rollout.completionTokens,
        finishReason: rollout.finishReason,
        truncated: rollout.truncated,
        reward: combined,
        rewards,
        advantage: null,
      };
    });
    const prompt = requested?.prompts.find((p) => p.promptId === promptId);
    return {
      promptId,
      source: prompt
        ? { datasetVersion: prompt.datasetVersion, rowIndex: prompt.rowIndex, category: prompt.category }
        : null,
      completions,
    };
  });

  const complete = groups.filter(
    (g) => g.completions.length > 0 && g.completions.every((c) => c.reward !== null),
  );
  const size = complete[0]?.completions.length;
  if (size && complete.every((g) => g.completions.length === size)) {
    const result = groupAdvantages(
      complete.flatMap((g) => g.completions.map((c) => c.reward as number)),
      { numGenerations: size, scaleRewards, epsilon: 1e-4, unbiasedStd: true },
    );
    complete.flatMap((g) => g.completions).forEach((c, row) => (c.advantage = result.advantages[row]));
  }
  return { step, groupSize: requested?.groupSize ?? size ?? null, scaleRewards, rewardWeights, groups };
}

/** LIKE pattern text with its wildcards escaped. */
const likeEscaped = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/** Adds the step's scores from each rescore stream of the run (`<run>.rescore-<reward>-<version>`). */
export async function withRescores(
  platform: Pick<Platform, 'pool' | 'eventStore'>,
  runId: string,
  groups: StepGroups,
): Promise<StepGroups> {
  const { rows } = await platform.pool.query<{ stream_id: string }>(
    "SELECT stream_id FROM recon_streams WHERE stream_id LIKE $1 ESCAPE '\\' ORDER BY stream_id",
    [`${likeEscaped(runId)}.rescore-%`],
  );
  const rescores: NonNullable<StepGroups['rescores']> = [];
  for (const { stream_id: streamId } of rows) {
    const scored = payloadsOf(
      await platform.eventStore.readStream(streamId, { types: ['reward.scored'] }),
      'reward.scored',
    ).filter((s) => s.step === groups.step);
    if (scored.length === 0) continue;
    rescores.push({
      streamId,
      rewardId: scored[0].rewardId,
      rewardVersion: scored[0].rewardVersion,
      totals: Object.fromEntries(scored.map((s) => [s.rolloutId, s.total])),
    });
  }
  return { ...groups, rescores };
}
