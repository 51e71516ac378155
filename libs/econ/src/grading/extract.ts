/**
 * Answer extraction from model output. Two families: the paper's (reproduced exactly, including its regex
 * `\\boxed\{(.*?)\}` that stops at the first closing brace) and a brace-balanced one for the strict metric.
 */

const THINK_CLOSE = '</think>';
// Python's re.search(r"\\boxed\{(.*?)\}", text) without flags, i.e. /\\boxed\{([^\n]*?)\}/ in JavaScript:
// `.` matches anything but \n (JavaScript's `.` also excludes \r and \u2028/\u2029, hence the explicit class),
// so a box whose content spans a line break is not found by the paper's code; we keep that.
const OPTION_LABEL = /option\s*(\d+)/i;

/** The paper's first `\boxed{...}` content (non-greedy, stops at the first `}`), or null. */
export function paperFirstBoxed(text: string): string | null {
  // The regex's answer in linear time: the regex retries from every `\boxed{`, each attempt scanning to the end
  // of the line, which took 16 s on a 262,144-character completion of unclosed boxes.
  const open = '\\boxed{';
  let from = 0;
  let close = -1;
  for (;;) {
    const start = text.indexOf(open, from);
    if (start < 0) return null;
    const contentAt = start + open.length;
    if (close < contentAt) close = text.indexOf('}', contentAt);
    if (close < 0) return null;
    const lineEnd = text.indexOf('\n', contentAt);
    if (lineEnd < 0 || close < lineEnd) return text.slice(contentAt, close);
    // Every box opened before that line break meets it before a `}`: go on after it.
    from = lineEnd + 1;
  }
}

/** The paper's fallback: the first `Option N` label, normalised to `Option N`, or null. */
export function paperFirstOptionLabel(text: string): string | null {
  const match = OPTION_LABEL.exec(text);
  return match ? `Option ${Number(match[1])}` : null;
}

/** Contents of every `\boxed{...}` with balanced braces, in order; an unclosed box is ignored. */
export function balancedBoxedAll(text: string): string[] {
  const found: string[] = [];
  let from = 0;
  for (;;) {
    const start = text.indexOf('\\boxed{', from);
    if (start < 0) return found;
    let depth = 1;
    let index = start + '\\boxed{'.length;
    while (index < text.length && depth > 0) {
      const char = text[index];
      if (char === '{') depth += 1;
      else if (char === '}') depth -= 1;
      index += 1;
    }
    if (depth !== 0) return found;
    found.push(text.slice(start + '\\boxed{'.length, index - 1));
    from = index;
  }
}

/** Text after the last `</think>`, or the whole text when there is none. */
export function afterLastThink(text: string): string {
  const at = text.lastIndexOf(THINK_CLOSE);
  return at < 0 ? text : text.slice(at + THINK_CLOSE.length);
}

/** Strips LaTeX wrappers a model may put inside a box: `\text{...}`, `\mathrm{...}`. */
export function unwrapLatex(text: string): string {
  // By index, not by re-matching /^\\(?:text|mathrm|textbf|mathbf)\{([\s\S]*)\}$/ on each unwrapped copy:
  // that was quadratic in the nesting depth (seconds for a box of 40,000 nested \text{).
  let start = 0;
  let end = text.length;
  const trim = () => {
    while (start < end && /\s/.test(text[start])) start += 1;
    while (end > start && /\s/.test(text[end - 1])) end -= 1;
  };
  trim();
  for (;;) {
    const wrapper = LATEX_WRAPPERS.find(
      (w) => text.startsWith(w, start) && end - 1 >= start + w.length && text[end - 1] === '}',
    );
    if (wrapper === undefined) return text.slice(start, end);
    start += wrapper.length;
    end -= 1;
    trim();
  }
}

const LATEX_WRAPPERS = ['\\text{', '\\mathrm{', '\\textbf{', '\\mathbf{'];
