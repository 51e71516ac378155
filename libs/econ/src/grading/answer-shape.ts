/** The shapes gold answers take in the Recon data. */
export type GoldShape = 'option' | 'yes-no' | 'ordering' | 'pure-nash';

const OPTION = /^Option\s+(\d+)\s*(?::|$)/i;
const ORDERING = /^[A-Z](\s*,\s*[A-Z])+$/;

export function goldShapeOf(gold: string): GoldShape | null {
  const text = gold.trim();
  if (OPTION.test(text)) return 'option';
  if (/^(yes|no)$/i.test(text)) return 'yes-no';
  if (ORDERING.test(text)) return 'ordering';
  if (parseNashList(text) !== null) return 'pure-nash';
  return null;
}

/** The option number of `Option N: ...` (or `Option N`), or null. */
export function optionNumber(text: string): number | null {
  const match = OPTION.exec(text.trim());
  return match ? Number(match[1]) : null;
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
  const pairs = [...compact.matchAll(/\[(\d+),(\d+)\]/g)].map((m) => [Number(m[1]), Number(m[2])] as [number, number]);
  return pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

/** `A, D, C, B` as its letters, or null. */
export function parseOrdering(text: string): string[] | null {
  const compact = text.trim().toUpperCase();
  return ORDERING.test(compact) ? compact.split(',').map((letter) => letter.trim()) : null;
}
