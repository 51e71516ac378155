/**
 * A safe parser for the Python literals Recon's CSVs hold (`[{'role': 'user', 'content': '...'}]`): strings
 * in either quote (with escapes, including implicit concatenation of adjacent strings), numbers, True,
 * False, None, lists, tuples and dicts. Nothing is evaluated.
 */
export type PythonValue = string | number | boolean | null | PythonValue[] | { [key: string]: PythonValue };

export class PythonLiteralError extends Error {
  constructor(
    readonly offset: number,
    reason: string,
  ) {
    super(`${reason} at character ${offset}`);
    this.name = 'PythonLiteralError';
  }
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\n': '',
};

/** Deeper nesting than this is refused (instead of overflowing the stack); real prompts nest 2 levels. */
export const MAX_NESTING = 100;

class Parser {
  private index = 0;
  private depth = 0;

  constructor(private readonly text: string) {}

  parse(): PythonValue {
    const value = this.value();
    this.skipSpace();
    if (this.index !== this.text.length) this.fail('unexpected text after the literal');
    return value;
  }

  private fail(reason: string): never {
    throw new PythonLiteralError(this.index, reason);
  }

  private skipSpace(): void {
    while (this.index < this.text.length && /\s/.test(this.text[this.index])) this.index += 1;
  }

  private value(): PythonValue {
    this.skipSpace();
    const char = this.text[this.index];
    if (char === undefined) this.fail('unexpected end of text');
    if (char === "'" || char === '"') return this.strings();
    if (char === '[') return this.sequence('[', ']');
    if (char === '(') return this.sequence('(', ')');
    if (char === '{') return this.dict();
    if (/[-+0-9.]/.test(char)) return this.number();
    for (const [word, value] of [
      ['True', true],
      ['False', false],
      ['None', null],
    ] as const) {
      if (this.text.startsWith(word, this.index)) {
        this.index += word.length;
        return value;
      }
    }
    return this.fail(`unexpected character '${char}'`);
  }

  /** One or more adjacent string literals, concatenated as Python does. */
  private strings(): string {
    let result = this.string();
    for (;;) {
      const save = this.index;
      this.skipSpace();
      const next = this.text[this.index];
      if (next === "'" || next === '"') result += this.string();
      else {
        this.index = save;
        return result;
      }
    }
  }

  private string(): string {
    const quote = this.text[this.index];
    const triple = this.text.startsWith(quote.repeat(3), this.index);
    const delimiter = triple ? quote.repeat(3) : quote;
    this.index += delimiter.length;
    let out = '';
    for (;;) {
      if (this.index >= this.text.length) this.fail('unterminated string');
      if (this.text.startsWith(delimiter, this.index)) {
        this.index += delimiter.length;
        return out;
      }
      const char = this.text[this.index];
      if (char === '\n' && !triple) this.fail('line break inside a string');
      if (char !== '\\') {
        out += char;
        this.index += 1;
        continue;
      }
      const escape = this.text[this.index + 1];
      if (escape === undefined) this.fail('unterminated escape');
      if (escape === '\n') {
        this.index += 2; // a backslash before a line break continues the string
      } else if (escape in SIMPLE_ESCAPES) {
        out += SIMPLE_ESCAPES[escape];
        this.index += 2;
      } else if (escape === 'x' || escape === 'u' || escape === 'U') {
        const length = escape === 'x' ? 2 : escape === 'u' ? 4 : 8;
        const hex = this.text.slice(this.index + 2, this.index + 2 + length);
        if (!new RegExp(`^[0-9a-fA-F]{${length}}$`).test(hex)) this.fail(`invalid \\${escape} escape`);
        const codePoint = parseInt(hex, 16);
        if (codePoint > 0x10ffff) this.fail(`\\${escape}${hex} is not a Unicode code point`);
        out += String.fromCodePoint(codePoint);
        this.index += 2 + length;
      } else if (/[0-7]/.test(escape)) {
        const octal = /^[0-7]{1,3}/.exec(this.text.slice(this.index + 1))![0];
        out += String.fromCharCode(parseInt(octal, 8));
        this.index += 1 + octal.length;
      } else {
        // Python keeps unknown escapes as written (backslash included), e.g. '\boxed' is \b + 'oxed' but '\(' stays.
        out += `\\${escape}`;
        this.index += 2;
      }
    }
  }

  private number(): number {
    const match = /^[-+]?(\d[\d_]*)?(\.\d*)?([eE][-+]?\d+)?/.exec(this.text.slice(this.index));
    const literal = match?.[0] ?? '';
    if (!/\d/.test(literal)) this.fail('invalid number');
    this.index += literal.length;
    return Number(literal.replace(/_/g, ''));
  }

  private enter(): void {
    this.depth += 1;
    if (this.depth > MAX_NESTING) this.fail(`nesting deeper than ${MAX_NESTING} levels`);
  }

  private sequence(open: string, close: string): PythonValue[] {
    this.enter();
    this.index += open.length;
    const items: PythonValue[] = [];
    for (;;) {
      this.skipSpace();
      if (this.text[this.index] === close) {
        this.index += 1;
        this.depth -= 1;
        return items;
      }
      items.push(this.value());
      this.skipSpace();
      if (this.text[this.index] === ',') this.index += 1;
      else if (this.text[this.index] !== close) this.fail(`expected ',' or '${close}'`);
    }
  }

  private dict(): { [key: string]: PythonValue } {
    this.enter();
    this.index += 1;
    const result: { [key: string]: PythonValue } = {};
    for (;;) {
      this.skipSpace();
      if (this.text[this.index] === '}') {
        this.index += 1;
        this.depth -= 1;
        return result;
      }
      const key = this.value();
      if (typeof key !== 'string' && typeof key !== 'number') this.fail('dict keys must be strings or numbers');
      this.skipSpace();
      if (this.text[this.index] !== ':') this.fail("expected ':'");
      this.index += 1;
      // defineProperty, not assignment: a '__proto__' key is data, not the object's prototype.
      Object.defineProperty(result, String(key), {
        value: this.value(),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      this.skipSpace();
      if (this.text[this.index] === ',') this.index += 1;
      else if (this.text[this.index] !== '}') this.fail("expected ',' or '}'");
    }
  }
}

export function parsePythonLiteral(text: string): PythonValue {
  return new Parser(text).parse();
}
