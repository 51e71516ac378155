import fc from 'fast-check';
import { PythonLiteralError, parsePythonLiteral } from './python-literal';
import { DatasetImportError, importDataset, type DatasetFormat } from './recon-dataset';

const RUNS = 3000;
const FILE_RUNS = 2000;
const SEED = 1010;

const VALID_LITERALS = [
  `[{'role': 'user', 'content': 'Which option? Put it in \\\\boxed{Option X: text}.'}]`,
  `[{'role': 'system', 'content': "it's a game"}, {'role': 'user', 'content': 'Pick: Option 1 or Option 2'}]`,
  `[1, -2.5, 1e3, True, False, None, (1, 2), {'a': [[0, 1], [2, 2],]}]`,
  `'\\x41\\u00e9\\U0001F600' "tail" '''multi\nline'''`,
  `{'nested': {'deeper': ['\\101\\0x', 'con\\\ntinued']}}`,
];

/** A valid string with one edit: a character dropped, inserted, replaced, or the text truncated. */
const mutated = (valid: fc.Arbitrary<string>, insert: fc.Arbitrary<string>) =>
  fc
    .tuple(valid, fc.nat(), fc.constantFrom('drop', 'insert', 'replace', 'truncate', 'repeat'), insert)
    .map(([text, at, edit, piece]) => {
      const i = text.length === 0 ? 0 : at % text.length;
      switch (edit) {
        case 'drop':
          return text.slice(0, i) + text.slice(i + 1);
        case 'insert':
          return text.slice(0, i) + piece + text.slice(i);
        case 'replace':
          return text.slice(0, i) + piece + text.slice(i + 1);
        case 'truncate':
          return text.slice(0, i);
        default:
          return text.slice(0, i) + piece.repeat(50) + text.slice(i);
      }
    });

const LITERAL_PIECES = fc.constantFrom(
  "'",
  '"',
  '\\',
  '\\x',
  '\\u12',
  '\\U0011FFFF',
  '\\U7FFFFFFF',
  '[',
  ']',
  '{',
  '}',
  '(',
  ',',
  ':',
  '\n',
  'None',
  'Tru',
  '1e',
  '-',
  '.',
  '__proto__',
  '\u0000',
  '\ud800',
);

/** The parser's contract: a value, or a PythonLiteralError naming the reason and the character offset. */
function literalBoundary(text: string): 'parsed' | 'rejected' {
  try {
    parsePythonLiteral(text);
    return 'parsed';
  } catch (error) {
    if (!(error instanceof PythonLiteralError))
      throw new Error(`crash on ${JSON.stringify(text.slice(0, 200))}: ${String(error)}`);
    expect(error.message).toMatch(/ at character \d+$/);
    expect(error.offset).toBeGreaterThanOrEqual(0);
    expect(error.offset).toBeLessThanOrEqual(text.length);
    return 'rejected';
  }
}

describe('the Python-literal parser under generated malformed input', () => {
  it(`parses or rejects ${RUNS} arbitrary strings and ${RUNS} mutated valid literals with a positioned PythonLiteralError`, () => {
    let rejected = 0;
    const count = (text: string) => {
      if (literalBoundary(text) === 'rejected') rejected += 1;
    };
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), count), {
      seed: SEED,
      numRuns: RUNS,
    });
    fc.assert(
      fc.property(
        mutated(fc.constantFrom(...VALID_LITERALS), fc.oneof(LITERAL_PIECES, fc.string({ maxLength: 4 }))),
        count,
      ),
      { seed: SEED + 1, numRuns: RUNS },
    );
    // Adversarial shapes: deep nesting, huge strings, out-of-range escapes.
    for (const text of [
      '['.repeat(100_000),
      '{"a":'.repeat(50_000),
      `'${'x'.repeat(1_000_000)}'`,
      `'\\U00110000'`,
      `'${'\\'.repeat(9999)}'`,
    ])
      count(text);
    expect(rejected).toBeGreaterThan(RUNS);
    process.stdout.write(`python literal fuzz: ${2 * RUNS + 5} cases, ${rejected} rejected, 0 crashes\n`);
  });

  it('refuses nesting deeper than the limit and out-of-range code points with a position, and keeps __proto__ as data', () => {
    expect(() => parsePythonLiteral('['.repeat(101) + ']'.repeat(101))).toThrow(
      /nesting deeper than 100 levels at character 100$/,
    );
    expect(parsePythonLiteral('['.repeat(100) + ']'.repeat(100))).toBeDefined();
    expect(() => parsePythonLiteral(`'\\U00110000'`)).toThrow(/is not a Unicode code point at character 1$/);
    const value = parsePythonLiteral(`{'__proto__': {'polluted': True}}`) as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
  });
});

const csvField = (text: string) => `"${text.replace(/"/g, '""')}"`;
const prompt = (content: string) =>
  `[{'role': 'user', 'content': '${content.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'}]`;
const GOLDS = ['Option 2: defect', 'Yes', 'No', 'A, C, B', '[[0, 1], [1, 0]]', '[]'];

const problemRow = fc.record({
  content: fc.string({ minLength: 1, maxLength: 60 }),
  gold: fc.constantFrom(...GOLDS),
});
const traceRow = fc.record({
  prompt: fc.string({ minLength: 1, maxLength: 40 }),
  think: fc.string({ maxLength: 40 }),
  box: fc.constantFrom(...GOLDS),
});

const problemCsv = fc
  .array(problemRow, { minLength: 1, maxLength: 6 })
  .map(
    (rows) =>
      ['prompt,answer', ...rows.map((r) => `${csvField(prompt(r.content))},${csvField(r.gold)}`)].join('\n') +
      '\n',
  );
const cotCsv = fc
  .array(traceRow, { minLength: 1, maxLength: 6 })
  .map(
    (rows) =>
      [
        'prompt,response',
        ...rows.map((r) => `${csvField(r.prompt)},${csvField(`${r.think}</think>\\boxed{${r.box}}`)}`),
      ].join('\n') + '\n',
  );
const jsonl = fc
  .array(
    fc.oneof(
      problemRow.map((r) => ({ messages: [{ role: 'user', content: r.content }], answer: r.gold })),
      traceRow.map((r) => ({ prompt: r.prompt, response: `${r.think}</think>\\boxed{${r.box}}` })),
    ),
    {
      minLength: 1,
      maxLength: 6,
    },
  )
  .map((rows) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n');

const ROW_PIECES = fc.oneof(
  fc.constantFrom(
    '"',
    "'",
    ',',
    '\n',
    '\r\n',
    '\\',
    '\\x',
    '\\U7FFFFFFF',
    '{',
    '}',
    '[',
    ']',
    ':',
    '</think>',
    '\\boxed{',
    '""',
    ',,,,',
    'prompt',
    '\u0000',
    '\ufeff',
  ),
  fc.string({ maxLength: 6 }),
  // Invalid UTF-8 bytes as a file read with readFileSync(file, 'utf8') decodes them.
  fc
    .uint8Array({ minLength: 1, maxLength: 4 })
    .map((bytes) => Buffer.from([0xff, ...bytes, 0xc3]).toString('utf8')),
);

/** A generated file with one malformation: the importer returns rows, or a DatasetImportError naming file and line. */
function importBoundary(file: string, format: DatasetFormat, text: string): 'imported' | 'rejected' {
  try {
    const dataset = importDataset(file, { format, text });
    expect(dataset.rows.length).toBeGreaterThan(0);
    expect(dataset.versionHash).toMatch(/^[0-9a-f]{64}$/);
    return 'imported';
  } catch (error) {
    if (!(error instanceof DatasetImportError))
      throw new Error(`crash on ${format} ${JSON.stringify(text.slice(0, 300))}: ${String(error)}`);
    expect(error.message.startsWith(`${file}: `)).toBe(true);
    expect(error.rejected.length).toBeGreaterThan(0);
    const lines = text.split('\n').length;
    for (const row of error.rejected) {
      expect(row.file).toBe(file);
      expect(row.line).toBeGreaterThanOrEqual(1);
      expect(row.line).toBeLessThanOrEqual(lines + 1);
      expect(row.reason.length).toBeGreaterThan(5);
    }
    expect(error.message).toMatch(/\n {2}line \d+: \S/);
    return 'rejected';
  }
}

describe('dataset row validation under generated malformed files', () => {
  it.each([
    ['recon-csv', 'fuzz_train.csv', problemCsv],
    ['recon-cot-csv', 'fuzz_cot.csv', cotCsv],
    ['jsonl', 'fuzz.jsonl', jsonl],
  ] as const)(
    `%s: ${FILE_RUNS} mutated files import or are rejected naming file and line`,
    (format, file, valid) => {
      let rejected = 0;
      fc.assert(
        fc.property(mutated(valid, ROW_PIECES), (text) => {
          if (importBoundary(file, format, text) === 'rejected') rejected += 1;
        }),
        { seed: SEED + 2, numRuns: FILE_RUNS },
      );
      // Huge and empty fields, empty files, a header alone, wrong columns.
      const big = 'x'.repeat(2_000_000);
      const extremes =
        format === 'jsonl'
          ? [
              '',
              '\n\n',
              `{"messages": [{"role": "user", "content": "${big}"}], "answer": ""}`,
              '[]',
              'null',
              '{"prompt": "", "response": ""}',
            ]
          : [
              '',
              'prompt,answer\n',
              'a,b\n1,2\n',
              `prompt,answer,response\n${csvField(big)},,\n`,
              'prompt,answer\n"unclosed,\n',
              'prompt,answer\n1,2,3\n',
            ];
      for (const text of extremes) if (importBoundary(file, format, text) === 'rejected') rejected += 1;
      expect(rejected).toBeGreaterThan(0);
      process.stdout.write(
        `dataset ${format} row fuzz: ${FILE_RUNS + extremes.length} cases, ${rejected} rejected, 0 crashes\n`,
      );
    },
  );

  it('refuses an empty file, a header alone and a file whose every row was skipped', () => {
    expect(() => importDataset('empty.csv', { text: '' })).toThrow(
      /^empty\.csv: 1 invalid row\(s\)[\s\S]*line 1: the file holds no data rows/,
    );
    expect(() => importDataset('header.csv', { text: 'prompt,answer\n' })).toThrow(
      /the file holds no data rows/,
    );
    expect(() => importDataset('bad.jsonl', { text: 'nope\n', skipInvalid: true })).toThrow(
      /line 1: invalid JSON/,
    );
  });
});
