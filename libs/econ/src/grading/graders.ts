import {
  goldShapeOf,
  mentionedOptionNumber,
  optionNumber,
  parseNashList,
  parseOrdering,
  splitOption,
} from './answer-shape';
import { gradeGameMove } from './game-move';
import {
  afterLastThink,
  balancedBoxedAll,
  paperFirstBoxed,
  paperFirstOptionLabel,
  unwrapLatex,
} from './extract';

export interface Grade {
  correct: boolean;
  /** The answer the grader read, or null when it found none. */
  parsed: string | null;
}

/**
 * The paper's evaluation grader (vllm_evaluate): the first `\boxed{}` anywhere in the output, else the first
 * `Option N`; correct when equal to the gold after trimming, or when both name the same option number.
 */
export function paperEvalGrade(output: string, gold: string): Grade {
  const parsed = paperFirstBoxed(output) ?? paperFirstOptionLabel(output);
  if (parsed === null) return { correct: false, parsed: null };
  if (parsed.trim() === gold.trim()) return { correct: true, parsed };
  const [mine, theirs] = [mentionedOptionNumber(parsed), mentionedOptionNumber(gold)];
  return { correct: mine !== null && mine === theirs, parsed };
}

/**
 * Strict task accuracy, independent of the reward: the LAST balanced `\boxed{}` after the last `</think>`
 * (the final answer), compared by meaning for the gold's shape: the option number for multiple choice,
 * yes/no case-insensitively, the exact letter sequence for orderings, the same set of pairs for pure Nash
 * equilibria. No box, no credit.
 */
export function strictGrade(output: string, gold: string): Grade {
  return gradeFinalAnswer(output, gold, (parsed) => {
    const mine = optionNumber(parsed);
    return mine !== null && mine === optionNumber(gold);
  });
}

const sameWords = (a: string, b: string) => a.replace(/\s+/g, ' ').trim() === b.replace(/\s+/g, ' ').trim();

/**
 * Exact-answer accuracy, the report's "strict" grade: the final answer (last balanced `\boxed{}` after the last
 * `</think>`) must state the gold option's text exactly (whitespace runs aside, case kept) and, when it states
 * an option number, the gold's number: `\boxed{Option 1: D}` is wrong for gold `Option 1: U`, and so is
 * `\boxed{Option 2: U}`; `\boxed{U}` is right. Other golds (yes/no, orderings, pure-Nash lists) are compared by
 * meaning as `strictGrade` does.
 */
export function exactAnswerGrade(output: string, gold: string): Grade {
  return gradeFinalAnswer(output, gold, (parsed) => {
    const expected = splitOption(gold)!;
    const stated = splitOption(parsed);
    if (stated === null) return expected.text !== '' && sameWords(parsed, expected.text);
    return stated.number === expected.number && sameWords(stated.text, expected.text);
  });
}

/** The final answer of `output` graded against `gold`, multiple choice by `optionCorrect`, the rest by meaning. */
function gradeFinalAnswer(output: string, gold: string, optionCorrect: (parsed: string) => boolean): Grade {
  if (goldShapeOf(gold) === 'game-move') return gradeGameMove(output, gold);
  const boxes = balancedBoxedAll(afterLastThink(output));
  if (boxes.length === 0) return { correct: false, parsed: null };
  const parsed = unwrapLatex(boxes[boxes.length - 1]);
  switch (goldShapeOf(gold)) {
    case 'option':
      return { correct: optionCorrect(parsed), parsed };
    case 'yes-no':
      // A closing full stop is punctuation, not part of the answer (`\boxed{Yes.}`).
      return {
        correct: parsed.replace(/\.$/, '').trim().toLowerCase() === gold.trim().toLowerCase(),
        parsed,
      };
    case 'ordering': {
      const [mine, theirs] = [parseOrdering(parsed), parseOrdering(gold)];
      return { correct: mine !== null && theirs !== null && mine.join(',') === theirs.join(','), parsed };
    }
    case 'pure-nash': {
      const [mine, theirs] = [parseNashList(parsed), parseNashList(gold)];
      return {
        correct: mine !== null && theirs !== null && JSON.stringify(mine) === JSON.stringify(theirs),
        parsed,
      };
    }
    default:
      return { correct: parsed === gold.trim(), parsed };
  }
}
