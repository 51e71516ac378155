import { h } from './dom';

export type DiffPart = { kind: 'same' | 'removed' | 'added'; text: string };

/** Words and the whitespace between them, so the diff keeps the texts' own spacing and line breaks. */
const tokens = (text: string): string[] => text.match(/\s+|[^\s]+/g) ?? [];

/** Above this many DP cells the diff compares lines instead of words (keeps a long pair fast). */
const MAX_CELLS = 4_000_000;

/** A longest-common-subsequence diff of two texts by words (by lines when they are long). */
export function diffTexts(a: string, b: string): DiffPart[] {
  let x = tokens(a);
  let y = tokens(b);
  if (x.length * y.length > MAX_CELLS) {
    x = a.split(/(?<=\n)/);
    y = b.split(/(?<=\n)/);
  }
  const n = x.length;
  const m = y.length;
  // lcs[i * (m + 1) + j]: length of the LCS of x[i..] and y[j..].
  const lcs = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i * (m + 1) + j] =
        x[i] === y[j]
          ? lcs[(i + 1) * (m + 1) + j + 1] + 1
          : Math.max(lcs[(i + 1) * (m + 1) + j], lcs[i * (m + 1) + j + 1]);
  const parts: DiffPart[] = [];
  const push = (kind: DiffPart['kind'], text: string) => {
    const last = parts[parts.length - 1];
    if (last?.kind === kind) last.text += text;
    else parts.push({ kind, text });
  };
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) {
      push('same', x[i]);
      i++;
      j++;
    } else if (i < n && (j === m || lcs[(i + 1) * (m + 1) + j] >= lcs[i * (m + 1) + j + 1]))
      push('removed', x[i++]);
    else push('added', y[j++]);
  }
  return parts;
}

/** The diff as text elements: removed words struck through (del), added ones underlined (ins). */
export function diffElement(a: string, b: string): HTMLElement {
  return h(
    'pre',
    { class: 'diff' },
    ...diffTexts(a, b).map((p) =>
      p.kind === 'same' ? p.text : h(p.kind === 'added' ? 'ins' : 'del', {}, p.text),
    ),
  );
}
