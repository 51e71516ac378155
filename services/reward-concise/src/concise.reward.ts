import { strictGrade, type ProblemRow } from '@recon/econ';
import { defineReward } from '@recon/reward-sdk';
import { z } from 'zod';

/**
 * A worked example of a reward service added without touching any other: correctness by the strict grader,
 * minus a penalty per character past a budget, so a policy is paid for being right briefly.
 */
export const conciseCorrect = defineReward<ProblemRow, { budgetChars: number; penaltyPerChar: number }>({
  id: 'concise-correct',
  version: '1.0.0',
  config: {
    schema: z.strictObject({ budgetChars: z.number().int().positive(), penaltyPerChar: z.number().min(0) }),
    value: { budgetChars: 400, penaltyPerChar: 0.002 },
  },
  score({ completion, row }, config) {
    const correct = strictGrade(completion, row.gold).correct ? 1 : 0;
    const length = -config.penaltyPerChar * Math.max(0, completion.length - config.budgetChars);
    return { total: correct + length, components: { correct, length } };
  },
});
