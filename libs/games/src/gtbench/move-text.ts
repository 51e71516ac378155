/** The text a move is parsed from: after the last `</think>` (games.md §4), or the whole reply. */
export function answerText(reply: string): string {
  const at = reply.lastIndexOf('</think>');
  return at < 0 ? reply : reply.slice(at + '</think>'.length);
}

/** A parsed move: an engine action, or why there is none. */
export type ParsedMove = { ok: true; action: number; matched: string } | { ok: false; reason: string };

/** The last match of a pattern in a reply's answer text (GTBench takes the last match). */
export function lastMatch(reply: string, pattern: RegExp): RegExpMatchArray | null {
  const flags = pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`;
  const all = [...answerText(reply).matchAll(new RegExp(pattern.source, flags))];
  return all.length === 0 ? null : all[all.length - 1];
}
