import { goldText, promptOptions } from './answer-shape';
import { exactAnswerGrade, paperEvalGrade } from './graders';

/** What an answer baseline reads of a problem: its category, gold and prompt (for the options it lists). */
export interface BaselineItem {
  category: string;
  gold: string;
  prompt: string;
}

/** The most common value, ties broken by the value's order, so the answer does not depend on row order. */
function mostCommon(values: readonly string[]): string | null {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: string | null = null;
  for (const [value, count] of counts)
    if (best === null || count > counts.get(best)! || (count === counts.get(best)! && value < best))
      best = value;
  return best;
}

/** The most common gold answer TEXT (`Option N: ` dropped, so shuffled positions do not split the count). */
export function majorityAnswerText(items: ReadonlyArray<Pick<BaselineItem, 'gold'>>): string | null {
  return mostCommon(items.map((i) => goldText(i.gold)));
}

/** The most common gold answer text of each category. */
export function majorityAnswerTextByCategory(
  items: ReadonlyArray<Pick<BaselineItem, 'gold' | 'category'>>,
): Map<string, string> {
  const byCategory = new Map<string, string[]>();
  for (const item of items)
    byCategory.set(item.category, [...(byCategory.get(item.category) ?? []), goldText(item.gold)]);
  return new Map([...byCategory].map(([category, texts]) => [category, mostCommon(texts)!]));
}

/**
 * The answer a fixed-text baseline gives on one item: `Option k: text` when the prompt lists an option with
 * exactly that text (k its number there), else the text itself (`Yes`, `[]`, or an option text this item lacks).
 */
export function baselineAnswer(text: string, prompt: string): string {
  const option = promptOptions(prompt).find((o) => o.text === text);
  return option ? `Option ${option.number}: ${text}` : text;
}

export interface BaselineScore {
  items: number;
  correct: { exact: number; paper: number };
}

/** One item's grades when a baseline answers `text` (null: no answer, graded wrong). */
function gradeBaseline(item: BaselineItem, text: string | null): { exact: boolean; paper: boolean } {
  if (text === null) return { exact: false, paper: false };
  const completion = `\\boxed{${baselineAnswer(text, item.prompt)}}`;
  return {
    exact: exactAnswerGrade(completion, item.gold).correct,
    paper: paperEvalGrade(completion, item.gold).correct,
  };
}

/**
 * A baseline that answers `answerFor(item)` (a text, or null for no answer) on every item, graded as a final
 * `\boxed{}` answer by the exact grader and by the paper's.
 */
export function scoreBaseline(
  items: readonly BaselineItem[],
  answerFor: (item: BaselineItem) => string | null,
): BaselineScore {
  const correct = { exact: 0, paper: 0 };
  for (const item of items) {
    const grade = gradeBaseline(item, answerFor(item));
    if (grade.exact) correct.exact++;
    if (grade.paper) correct.paper++;
  }
  return { items: items.length, correct };
}

/** scoreBaseline per category (categories in name order). */
export function scoreBaselineByCategory(
  items: readonly BaselineItem[],
  answerFor: (item: BaselineItem) => string | null,
): Record<string, BaselineScore> {
  const categories = [...new Set(items.map((i) => i.category))].sort();
  return Object.fromEntries(
    categories.map((c) => [
      c,
      scoreBaseline(
        items.filter((i) => i.category === c),
        answerFor,
      ),
    ]),
  );
}

/** The text of the first option a prompt lists (`Option 1: …`), or null when it lists none. */
export function firstOptionText(prompt: string): string | null {
  const options = promptOptions(prompt);
  return (options.find((o) => o.number === 1) ?? options[0])?.text ?? null;
}
