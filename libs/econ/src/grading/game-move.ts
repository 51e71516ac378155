/**
 * Game-format answers: a move label wrapped as the complete-information games ask for it. Read as the
 * games read it (libs/games parseChoice): after the last `</think>` (the whole text when there is none),
 * the span from the first `<s>` to the first `</s>` after it, trimmed; `choice_k` or `_choice_k`.
 */
const GOLD = /^<s>\s*_?choice_(\d+)\s*<\/s>$/;

/** The k of a gold `<s>choice_k</s>`, or null when the gold is not a game move. */
export function goldMoveNumber(gold: string): number | null {
  const match = GOLD.exec(gold.trim());
  return match ? Number(match[1]) : null;
}

/** The span between the first `<s>` and the next `</s>` after the last `</think>`, or null. */
export function moveSpan(output: string): string | null {
  const at = output.lastIndexOf('</think>');
  const answer = at < 0 ? output : output.slice(at + '</think>'.length);
  const open = answer.indexOf('<s>');
  if (open < 0) return null;
  const close = answer.indexOf('</s>', open + 3);
  return close < 0 ? null : answer.slice(open + 3, close);
}

/** The move number the output answers with, or null when its span is missing or not a label. */
export function answeredMoveNumber(output: string): number | null {
  const span = moveSpan(output);
  const match = span === null ? null : /^_?choice_(\d+)$/.exec(span.trim());
  return match ? Number(match[1]) : null;
}

/** A game-format answer graded as the games parse it: correct when the move read is the gold's move. */
export function gradeGameMove(output: string, gold: string): { correct: boolean; parsed: string | null } {
  const span = moveSpan(output);
  const mine = answeredMoveNumber(output);
  return {
    correct: mine !== null && mine === goldMoveNumber(gold),
    parsed: span === null ? null : span.trim(),
  };
}
