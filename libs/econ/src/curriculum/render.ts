import type { CurriculumStyle, Problem } from './problem';
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
}

/**
 * Renders a problem in one style. Options are shuffled (one permutation per item), so the correct option's
 * position is uniform; the trace ends in `\boxed{answer}`, exactly the gold.
 */
export function renderProblem(problem: Problem, style: CurriculumStyle, rng: Rng): RenderedItem {
  const text = problem[style];
  let prompt: string;
  let answer: string;
  if (problem.answer.kind === 'literal') {
    answer = problem.answer.value;
    prompt = style === 'full' ? `${LITERAL_HEADER}${text.question}` : text.question;
  } else {
    const { options, correct } = problem.answer;
    const order = rng.permutation(options.length);
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
