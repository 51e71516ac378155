import { goldMoveNumber } from './game-move';

/** The shapes gold answers take in the Recon data, plus the game-format items' `<s>choice_k</s>`. */
export type GoldShape = 'option' | 'yes-no' | 'ordering' | 'pure-nash' | 'game-move';

const OPTION = /^Option\s+(\d+)\s*(?::|$)/i;
const ORDERING = /^[A-Z](\s*,\s*[A-Z])+$/;

export function goldShapeOf(gold: string): GoldShape | null {
  const text = gold.trim();
  if (OPTION.test(text)) return 'option';
  if (/^(yes|no)$/i.test(text)) return 'yes-no';
  if (ORDERING.test(text)) return 'ordering';
  if (parseNashList(text) !== null) return 'pure-nash';
  if (goldMoveNumber(text) !== null) return 'game-move';
  return null;
}

/** The option number of `Option N: ...` (or `Option N`), or null. */
export function optionNumber(text: string): number | null {
  const match = OPTION.exec(text.trim());
  return match ? Number(match[1]) : null;
}

/** `Option N: text` (or `Option N:` / `Option N`) as its number and text; `text` is '' when none follows. */
export function splitOption(text: string): { number: number; text: string } | null {
  const match = /^Option\s+(\d+)\s*(?::\s*([\s\S]*))?$/i.exec(text.trim());
  return match ? { number: Number(match[1]), text: (match[2] ?? '').trim() } : null;
}

/**
 * The answer text of a gold: the option text of `Option N: text`, else the whole gold (`Yes`, `[[0, 1]]`), so
 * golds of different items compare by what they say, not by where the shuffle put them.
 */
export function goldText(gold: string): string {
  const option = splitOption(gold);
  return option ? option.text : gold.trim();
}

/**
 * The options a prompt lists as `Option 1: ...`, `Option 2: ...` (one a line, or `; `-separated on one line),
 * numbered from 1 in order: the last `Option 1:` starts the list, each text runs to the next label, the last
 * to the end of its line. Empty when the prompt lists none.
 */
export function promptOptions(prompt: string): Array<{ number: number; text: string }> {
  const start = [...prompt.matchAll(/Option\s+1\s*:/g)].at(-1)?.index;
  if (start === undefined) return [];
  const labels = [...prompt.slice(start).matchAll(/Option\s+(\d+)\s*:\s*/g)];
  const options: Array<{ number: number; text: string }> = [];
  for (let k = 0; k < labels.length; k++) {
    if (Number(labels[k][1]) !== options.length + 1) break;
    const from = labels[k].index + labels[k][0].length;
    const to = k + 1 < labels.length ? labels[k + 1].index : prompt.length - start;
    let text = prompt.slice(start + from, start + to);
    if (k + 1 === labels.length || /\n/.test(text)) text = text.split('\n')[0];
    options.push({ number: options.length + 1, text: text.trim().replace(/;$/, '').trim() });
  }
  return options;
}

/** The first option number mentioned anywhere (`Option N`, any case), as the paper's code compares them. */
export function mentionedOptionNumber(text: string): number | null {
  const match = /option\s*(\d+)/i.exec(text);
  return match ? Number(match[1]) : null;
}

/** `[[i, j], ...]` or `[]` as a sorted list of pairs, or null when the text is not such a list. */
export function parseNashList(text: string): Array<[number, number]> | null {
  const compact = text.replace(/\s+/g, '');
  if (compact === '[]') return [];
  if (!/^\[(\[\d+,\d+\])(,\[\d+,\d+\])*\]$/.test(compact)) return null;
  const pairs = [...compact.matchAll(/\[(\d+),(\d+)\]/g)].map(
    (m) => [Number(m[1]), Number(m[2])] as [number, number],
  );
  return pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

/** `A, D, C, B` as its letters, or null. */
export function parseOrdering(text: string): string[] | null {
  const compact = text.trim().toUpperCase();
  return ORDERING.test(compact) ? compact.split(',').map((letter) => letter.trim()) : null;
}
