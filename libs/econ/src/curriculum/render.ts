import type { CurriculumStyle, Problem, ProblemMessage } from './problem';
import type { Rng } from './rng';

/** The paper's instruction for multiple-choice problems (the Recon prompts' wording). */
const CHOICE_HEADER =
  'You are given a reasoning problem in Economics. Please reason step by step to solve it.\n\n' +
  'Enclose your reasoning in <think> and </think>. Then, give your final answer using the format \\boxed{Option X: full choice text}.\n\n' +
  'You must include both the option number and the full text of your chosen answer.\n\nQuestion:\n';
/** The paper's instruction for problems whose question states the answer format (pure Nash, PTE). */
const LITERAL_HEADER = 'You are given a reasoning problem in Economics. Please reason step by step to solve it. Enclose your reasoning in <think> and </think>. ';

export interface RenderedItem {
  prompt: string;
  answer: string;
  trace: string;
  /** The chat the prompt is asked in, when it is not one user turn (game-format items). */
  messages?: ProblemMessage[];
}

/** The gold of a game-format item: the move label wrapped as the evaluation games ask for it. */
export const moveGold = (choice: number) => `<s>choice_${choice}</s>`;

/**
 * Renders a problem in one style. Full-style options are shuffled (one permutation per item), so the correct
 * option's position is uniform; compact options keep a fixed order. The trace ends in `\boxed{answer}`, exactly the gold.
 */
export function renderProblem(problem: Problem, style: CurriculumStyle, rng: Rng): RenderedItem {
  const text = problem[style];
  if (problem.answer.kind === 'move') {
    // Game-format items are asked exactly as the evaluation games ask (no header, the same chat in both
    // styles) and answered as they are parsed: the move after the reasoning, no box.
    const messages = (problem.messages ?? [{ role: 'user', content: text.question }]).map((m) => ({ ...m }));
    const answer = moveGold(problem.answer.choice);
    const user = messages.filter((m) => m.role === 'user').pop();
    return { prompt: user?.content ?? text.question, answer, trace: `<think>${text.steps.join(' ')}</think>\n${answer}`, messages };
  }
  let prompt: string;
  let answer: string;
  if (problem.answer.kind === 'literal') {
    answer = problem.answer.value;
    prompt = style === 'full' ? `${LITERAL_HEADER}${text.question}` : text.question;
  } else {
    const { options, correct } = problem.answer;
    // Compact options keep the generator's order (fixed per category), so choosing an option means reasoning
    // to its text, not finding a shuffled position; the per-category majority baseline covers the fixed order.
    const order = style === 'compact' ? options.map((_, k) => k) : rng.permutation(options.length);
    const shown = order.map((k) => options[k][style]);
    const position = order.indexOf(correct);
    answer = `Option ${position + 1}: ${shown[position]}`;
    prompt =
      style === 'full'
        ? `${CHOICE_HEADER}${text.question}\n\nOptions:\n${shown.map((o, i) => `Option ${i + 1}: ${o}`).join('\n')}`
        : `${text.question} ${shown.map((o, i) => `Option ${i + 1}: ${o}`).join('; ')}`;
  }
  const reasoning = style === 'full' ? text.steps.join('\n') : text.steps.join(' ');
  return { prompt, answer, trace: `<think>${reasoning}</think>\n\\boxed{${answer}}` };
}
