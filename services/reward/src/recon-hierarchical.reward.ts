import { RECON_REWARD, reconHierarchicalReward, type ProblemRow } from '@recon/econ';
import { defineReward } from '@recon/reward-sdk';

/** The paper's hierarchical GRPO reward, graded against each rollout's own gold answer. */
export const reconHierarchical = defineReward<ProblemRow>({
  id: RECON_REWARD.id,
  version: RECON_REWARD.version,
  score({ completion, row }) {
    const result = reconHierarchicalReward(completion, row.gold);
    return {
      total: result.total,
      components: result.components,
      details: { stage: result.stage, formatScore: result.formatScore, parsed: result.parsed },
    };
  },
});
