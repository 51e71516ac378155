import { parsePythonLiteral } from '../dataset/python-literal';

export interface PromptOption {
  number: number;
  text: string;
}

/** The `Option N: text` lines after the last `Options:` heading (each option on its own line). */
export function parseOptions(prompt: string): PromptOption[] {
  const at = prompt.lastIndexOf('Options:');
  if (at < 0) return [];
  return [...prompt.slice(at).matchAll(/^Option (\d+): (.*?)\s*$/gm)].map((m) => ({ number: Number(m[1]), text: m[2] }));
}

/** A numeric matrix written as a list literal after `label`, e.g. `Player 0's payoff matrix:\n[[1, 2], [3, 4]]`. */
export function matrixAfter(prompt: string, label: string): number[][] | null {
  const at = prompt.indexOf(label);
  if (at < 0) return null;
  const match = /^\s*(\[\s*\[[-\d.,\s[\]eE+]*\]\s*\])/.exec(prompt.slice(at + label.length));
  if (!match) return null;
  const value = parsePythonLiteral(match[1]);
  const isMatrix =
    Array.isArray(value) && value.every((line) => Array.isArray(line) && line.every((x) => typeof x === 'number' && Number.isFinite(x)));
  return isMatrix ? (value as number[][]) : null;
}

/** `Option N: text` as stored in the gold column. */
export const optionLabel = (option: PromptOption) => `Option ${option.number}: ${option.text}`;
