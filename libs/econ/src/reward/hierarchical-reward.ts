import { mentionedOptionNumber } from '../grading/answer-shape';
import { paperFirstBoxed, paperFirstOptionLabel } from '../grading/extract';
import { answeredMoveNumber, goldMoveNumber, moveSpan } from '../grading/game-move';

/** The paper's constants (GRPO_Training notebook, restated in recon-reference.md). */
export const RECON_REWARD = {
  id: 'recon-hierarchical',
  version: '1.0.0',
  FORMAT_PENALTY: -4.0,
  PARSE_PENALTY: -5.0,
  CORRECT_BOX: 5.0,
  PARTIAL: 2.0,
  WRONG: -3.0,
} as const;

export type RewardStage = 'format' | 'parse' | 'correct' | 'partial' | 'wrong';

export interface RewardResult {
  total: number;
  /** Terms that sum to the total (one is non-zero), so per-component metrics add up. */
  components: { format_penalty: number; parse_penalty: number; correctness: number };
  stage: RewardStage;
  formatScore: number;
  parsed: string | null;
}

/**
 * The hierarchical reward, graded against the completion's OWN gold answer (the published code compared
 * every completion of a call with answer[0], wrong as soon as a call covers several prompts).
 * A: format score = (+0.5 if exactly one `</think>` else -1.0) + (-1.0 if `</think>` is missing, -1.0 if the
 *    first `\boxed{` comes before it, else +0.25); a score <= 0 gives FORMAT_PENALTY.
 * B: only the text after `</think>`: the first `\boxed{...}` (the paper's non-greedy regex), else the first
 *    `Option N`; nothing gives PARSE_PENALTY.
 * C: equal to the gold after trimming gives CORRECT_BOX, the same option number PARTIAL, otherwise WRONG.
 * Game-format golds (`<s>choice_k</s>`, which no Recon item has) are read as the games read them: B takes the
 * first `<s>...</s>` after `</think>`, C gives CORRECT_BOX for the gold's move and WRONG for any other text.
 */
export function reconHierarchicalReward(completion: string, gold: string): RewardResult {
  const result = (stage: RewardStage, formatScore: number, parsed: string | null): RewardResult => {
    const components = { format_penalty: 0, parse_penalty: 0, correctness: 0 };
    if (stage === 'format') components.format_penalty = RECON_REWARD.FORMAT_PENALTY;
    else if (stage === 'parse') components.parse_penalty = RECON_REWARD.PARSE_PENALTY;
    else components.correctness = stage === 'correct' ? RECON_REWARD.CORRECT_BOX : stage === 'partial' ? RECON_REWARD.PARTIAL : RECON_REWARD.WRONG;
    const total = components.format_penalty + components.parse_penalty + components.correctness;
    return { total, components, stage, formatScore, parsed };
  };
  const closings = completion.split('</think>').length - 1;
  const thinkAt = completion.indexOf('</think>');
  const boxAt = completion.indexOf('\\boxed{');
  let formatScore = closings === 1 ? 0.5 : -1.0;
  if (thinkAt < 0) formatScore += -1.0;
  else if (boxAt >= 0 && boxAt < thinkAt) formatScore += -1.0;
  else formatScore += 0.25;
  if (formatScore <= 0) return result('format', formatScore, null);

  const answerText = completion.slice(thinkAt + '</think>'.length);
  const goldMove = goldMoveNumber(gold);
  if (goldMove !== null) {
    const span = moveSpan(answerText);
    if (span === null) return result('parse', formatScore, null);
    return result(answeredMoveNumber(answerText) === goldMove ? 'correct' : 'wrong', formatScore, span.trim());
  }
  const parsed = paperFirstBoxed(answerText) ?? paperFirstOptionLabel(answerText);
  if (parsed === null) return result('parse', formatScore, null);
  if (parsed.trim() === gold.trim()) return result('correct', formatScore, parsed);
  const [mine, theirs] = [mentionedOptionNumber(parsed), mentionedOptionNumber(gold)];
  if (mine !== null && mine === theirs) return result('partial', formatScore, parsed);
  return result('wrong', formatScore, parsed);
}
