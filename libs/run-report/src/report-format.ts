import type { Proportion } from '@recon/games';

/** Shared formatting of the run report's numbers and tables. */
export const pct = (x: number | undefined) => (x === undefined ? '–' : `${(x * 100).toFixed(1)}%`);
export const num = (x: number | undefined, digits = 3) => (x === undefined ? '–' : x.toFixed(digits));

/** `24.0% [19.1, 29.7]`: a rate with its 95% interval in percentage points. */
export const rateWithInterval = (p: Proportion) =>
  `${pct(p.rate)} [${(p.low * 100).toFixed(1)}, ${(p.high * 100).toFixed(1)}]`;

export function table(head: string[], rows: string[][]): string {
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map((cell) => cell.replace(/\|/g, '\\|')).join(' | ')} |`),
  ].join('\n');
}

/** A quoted answer text for prose, cut to `max` characters. */
export function quote(text: string, max = 40): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return `"${oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine}"`;
}

/**
 * Model output for a sample: long texts keep their start and their end (where the final answer is), with the
 * number of characters left out between; fences in the text are defused so the markdown block stays one block.
 */
export function sampleBlock(text: string, head = 240, tail = 160): string[] {
  const shown =
    text.length > head + tail + 40
      ? `${text.slice(0, head)} … [${text.length - head - tail} characters omitted] … ${text.slice(-tail)}`
      : text;
  return ['```text', shown.replace(/```/g, "'''") || '(empty)', '```'];
}

/** The payloads of a run's events of one type, in log order. */
export { payloadsOf } from '@recon/contracts';
