import { PythonLiteralError, parsePythonLiteral } from './python-literal';

describe('parsePythonLiteral', () => {
  it.each([
    [`[{'role': 'user', 'content': 'hi'}]`, [{ role: 'user', content: 'hi' }]],
    [`"it's"`, "it's"],
    [`'it\\'s'`, "it's"],
    [`'a\\nb\\tc\\\\d'`, 'a\nb\tc\\d'],
    [`'\\\\boxed{Option 1}'`, '\\boxed{Option 1}'],
    [`'\\x41\\u00e9\\U0001F600'`, 'Aé😀'],
    [`'\\('`, '\\('],
    [`'ab' "cd"`, 'abcd'],
    [`[1, -2.5, 1e3, True, False, None, (1, 2)]`, [1, -2.5, 1000, true, false, null, [1, 2]]],
    [`{'a': [], 'b': {}}`, { a: [], b: {} }],
    [`[[0, 1], [2, 2],]`, [[0, 1], [2, 2]]],
    [`'''multi\nline'''`, 'multi\nline'],
    [`'\\101\\0x'`, 'A\u0000x'],
    [`'say \\"hi\\"'`, 'say "hi"'],
    [`'con\\\ntinued'`, 'continued'],
  ])('parses %s', (text, expected) => {
    expect(parsePythonLiteral(text)).toEqual(expected);
  });

  it.each([
    [`[1, 2`, /expected ',' or '\]'/],
    [`'open`, /unterminated string/],
    [`__import__('os')`, /unexpected character '_' at character 0/],
    [`[1] extra`, /unexpected text after the literal at character 4/],
    [`{'a' 1}`, /expected ':'/],
    [`'\\xZZ'`, /invalid \\x escape/],
    [``, /unexpected end of text/],
  ])('rejects %s with the reason and offset', (text, message) => {
    expect(() => parsePythonLiteral(text)).toThrow(PythonLiteralError);
    expect(() => parsePythonLiteral(text)).toThrow(message);
  });
});
