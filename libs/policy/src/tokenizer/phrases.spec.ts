import { simultaneousPrompt, PRISONERS_DILEMMA } from '@recon/games';
import { ByteBpeTokenizer, PHRASE_PRETOKENIZE_PATTERN, PRETOKENIZE_PATTERN, pretokenize, trainTokenizer } from './index';

const rules = simultaneousPrompt(PRISONERS_DILEMMA, 'Alice').map((m) => m.content);
const variants = Array.from({ length: 10 }, (_, k) => rules.map((r) => r.replace(/\d+/g, (d) => String((Number(d) * 7 + k) % 13))));
const corpus = [...variants.flat(), 'Prix: 3,5 € 🙂'];

describe('phrase pre-tokenisation (tokenizer option)', () => {
  it('cuts only digit runs out of the text', () => {
    expect(pretokenize('you get -12 and Bob gets 5.\nIf', 'phrases')).toEqual(['you get -', '12', ' and Bob gets ', '5', '.\nIf']);
    expect(pretokenize("It's 12.5 cats!")).toEqual(['It', "'s", ' 12', '.', '5', ' cats', '!']);
  });

  it('defaults to word pre-tokenisation, serialised exactly as before the option existed', () => {
    const words = trainTokenizer({ corpus, vocabSize: 320 });
    expect(words.pretokenizer).toBe('words');
    expect(words.toJSON().pretokenizePattern).toBe(PRETOKENIZE_PATTERN);
    expect(Object.keys(words.toJSON())).toEqual(['format', 'pretokenizePattern', 'specialTokens', 'merges']);
  });

  it('merges across spaces, keeps numbers apart, round-trips and reloads with its pattern', () => {
    const phrases = trainTokenizer({ corpus, vocabSize: 600, pretokenizer: 'phrases' });
    const words = trainTokenizer({ corpus, vocabSize: 600 });
    const text = rules[1];
    expect(phrases.encode(text).length).toBeLessThan(words.encode(text).length / 2);
    expect(phrases.decode(phrases.encode(text))).toBe(text);
    expect(phrases.encode(text).map((id) => phrases.decode([id])).some((t) => / \S+ /.test(t))).toBe(true);
    const pieces = phrases.encode('you get 35 and Bob gets -12.').map((id) => phrases.decode([id]));
    expect(pieces.filter((t) => /\d/.test(t)).every((t) => /^\d+$/.test(t))).toBe(true);
    expect(pieces.filter((t) => /\d/.test(t)).join(' ')).toMatch(/^3 ?5 1 ?2$/);
    const json = phrases.toJSON();
    expect(json.pretokenizePattern).toBe(PHRASE_PRETOKENIZE_PATTERN);
    const reloaded = ByteBpeTokenizer.fromJSON(JSON.parse(JSON.stringify(json)));
    expect(reloaded.pretokenizer).toBe('phrases');
    expect(reloaded.contentHash).toBe(phrases.contentHash);
    expect(reloaded.encode(text)).toEqual(phrases.encode(text));
    expect(phrases.contentHash).not.toBe(new ByteBpeTokenizer(json.merges.map(([a, b]) => [a, b] as const)).contentHash);
  });
});
