import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { importDataset, type TraceRow } from '@recon/econ';
import fc from 'fast-check';
import {
  ByteBpeTokenizer,
  FIRST_MERGE_ID,
  SPECIAL_TOKENS,
  SPECIAL_TOKEN_IDS,
  TokenizerFormatError,
  pretokenize,
  trainTokenizer,
} from './index';
import { referenceMerges } from './reference-train';

const COT = resolve(__dirname, '../../../../../shared/recon-data/sft_cot_dataset.csv');

// A small slice of the real distilled traces keeps training fast while exercising real Recon text.
const rows = importDataset(COT, { skipInvalid: true }).rows as TraceRow[];
const slice = rows.slice(0, 20).flatMap((r) => [r.prompt, r.response]);
const unicode = [
  'Prix d’équilibre: 3,5 € — élasticité « unitaire » 🙂📈',
  '需求曲线向下倾斜。供给 = 需求，均衡价格 p* = 12。',
  'Ünïcödé wörds, Ελληνικά, русский, नमस्ते, 🇪🇺 flags and 👩‍👩‍👧 families',
  '',
  '  leading and trailing spaces \n\n\t tabs ',
];
const corpus = [...slice, ...unicode];

describe('byte-level BPE tokenizer', () => {
  const tokenizer = trainTokenizer({ corpus, vocabSize: 512 });

  it('reads the real CoT set', () => {
    expect(existsSync(COT)).toBe(true);
    expect(rows.length).toBeGreaterThan(800);
  });

  it('reaches the requested vocabulary with ids 264.. for merges', () => {
    expect(tokenizer.vocabSize).toBe(512);
    expect(FIRST_MERGE_ID).toBe(264);
    expect(tokenizer.toJSON().merges).toHaveLength(512 - 264);
  });

  it('is deterministic: same corpus -> same merges and content hash', () => {
    const again = trainTokenizer({ corpus: [...corpus], vocabSize: 512 });
    expect(again.toJSON().merges).toEqual(tokenizer.toJSON().merges);
    expect(again.contentHash).toBe(tokenizer.contentHash);
    expect(tokenizer.contentHash).toMatch(/^[0-9a-f]{64}$/);
    const other = trainTokenizer({ corpus: corpus.slice(1), vocabSize: 512 });
    expect(other.contentHash).not.toBe(tokenizer.contentHash);
  });

  it('learns the most frequent pair first, ties to the smallest pair of ids', () => {
    // "ab" x3 and "cd" x3 tie at count 3: (a,b) = (97,98) < (99,100) goes first; then (c,d); "xy" x2 waits.
    const t = trainTokenizer({
      corpus: ['xy', 'cd', 'ab', 'cd', 'xy', 'ab', 'cd', 'ab'],
      vocabSize: FIRST_MERGE_ID + 2,
    });
    expect(t.toJSON().merges).toEqual([
      [97, 98],
      [99, 100],
    ]);
    expect(t.encode('ab')).toEqual([FIRST_MERGE_ID]);
  });

  it('matches the full-recount reference trainer on real text and on random corpora', () => {
    expect(tokenizer.toJSON().merges).toEqual(referenceMerges(corpus, 512));
    fc.assert(
      fc.property(
        fc.array(
          fc.string({ unit: fc.constantFrom('a', 'b', 'c', ' ', 'é', '1', '<think>'), maxLength: 30 }),
          { maxLength: 8 },
        ),
        fc.integer({ min: FIRST_MERGE_ID, max: FIRST_MERGE_ID + 40 }),
        (texts, vocabSize) => {
          expect(trainTokenizer({ corpus: texts, vocabSize }).toJSON().merges).toEqual(
            referenceMerges(texts, vocabSize),
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it('never merges across pre-token boundaries', () => {
    const t = trainTokenizer({ corpus: ['a b a b a b a b'], vocabSize: 300 });
    for (const id of t.encode('a b')) expect(t.decode([id]).trim().length).toBeLessThanOrEqual(1);
    expect(pretokenize("It's 12.5 cats!")).toEqual(['It', "'s", ' 12', '.', '5', ' cats', '!']);
  });

  it('round-trips real Recon text, including text it was not trained on', () => {
    for (const text of [...corpus, ...rows.slice(100, 130).map((r) => r.response)]) {
      expect(tokenizer.decode(tokenizer.encode(text))).toBe(text);
    }
  });

  it('round-trips unicode: emoji, accents, CJK', () => {
    for (const text of unicode) expect(tokenizer.decode(tokenizer.encode(text))).toBe(text);
    // Trained text compresses: fewer tokens than UTF-8 bytes.
    const sample = slice[1];
    expect(tokenizer.encode(sample).length).toBeLessThan(Buffer.byteLength(sample, 'utf8') / 2);
  });

  it('round-trips arbitrary strings (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 60 }),
        (text) => tokenizer.decode(tokenizer.encode(text)) === text,
      ),
      { numRuns: 300 },
    );
  });

  it('encodes each special token to its single reserved id and never splits it', () => {
    SPECIAL_TOKENS.forEach((token, i) => {
      expect(tokenizer.encode(token)).toEqual([256 + i]);
      expect(tokenizer.decode([256 + i])).toBe(token);
    });
    const ids = tokenizer.encode('x<think>y</think>z<|eos|>');
    expect(ids).toContain(SPECIAL_TOKEN_IDS.thinkStart);
    expect(ids).toContain(SPECIAL_TOKEN_IDS.thinkEnd);
    expect(ids).toContain(SPECIAL_TOKEN_IDS.eos);
    // No merge ever produces a special id or spans a special token's text.
    const merged = tokenizer.toJSON().merges.flat();
    expect(merged.every((id) => id < 256 || id >= FIRST_MERGE_ID)).toBe(true);
  });

  it('turns </think> inside a real response into the special token', () => {
    const response = slice[1];
    expect(response).toContain('</think>');
    const ids = tokenizer.encode(response);
    expect(ids.filter((id) => id === SPECIAL_TOKEN_IDS.thinkEnd)).toHaveLength(
      response.split('</think>').length - 1,
    );
    expect(tokenizer.decode(ids)).toBe(response);
  });

  it('applies the chat template', () => {
    const ids = tokenizer.encodeChat(
      [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Price?' },
      ],
      { addGenerationPrompt: true },
    );
    const s = SPECIAL_TOKEN_IDS;
    expect(ids[0]).toBe(s.bos);
    expect(ids[1]).toBe(s.system);
    expect(ids.at(-1)).toBe(s.assistant);
    expect(ids.filter((id) => id === s.eos)).toHaveLength(2);
    expect(tokenizer.decode(ids)).toBe('<|bos|><|system|>Be brief.<|eos|><|user|>Price?<|eos|><|assistant|>');
    expect(tokenizer.encodeChat([{ role: 'user', content: 'Hi' }])).not.toContain(s.assistant);
  });

  it('applies the chat template to a message of 400,000 characters (found by recon serve: the stack overflowed)', () => {
    const content = 'Alice and Bob choose A or B. '.repeat(14_000);
    const ids = tokenizer.encodeChat([{ role: 'user', content }], { addGenerationPrompt: true });
    expect(ids.length).toBeGreaterThan(200_000);
    expect(tokenizer.decode(ids)).toBe(`<|bos|><|user|>${content}<|eos|><|assistant|>`);
  });

  it('rejects ids outside the vocabulary when decoding', () => {
    expect(() => tokenizer.decode([1, 512])).toThrow('ids[1] = 512 is not a token id');
  });

  it('survives toJSON/fromJSON, through canonical JSON text, with the same hash and encoding', () => {
    const restored = ByteBpeTokenizer.fromJSON(JSON.parse(JSON.stringify(tokenizer)));
    expect(restored.contentHash).toBe(tokenizer.contentHash);
    expect(restored.toJSON()).toEqual(tokenizer.toJSON());
    expect(restored.encode(slice[3])).toEqual(tokenizer.encode(slice[3]));
  });

  it('rejects a malformed serialised tokenizer with an error naming the field', () => {
    const good = tokenizer.toJSON();
    const bad = (patch: object): unknown => ({ ...good, ...patch });
    expect(() => ByteBpeTokenizer.fromJSON(bad({ format: 'other' }))).toThrow(/format/);
    expect(() => ByteBpeTokenizer.fromJSON(bad({ merges: [[97, 'b']] }))).toThrow(/merges\.0\.1/);
    expect(() =>
      ByteBpeTokenizer.fromJSON(
        bad({
          merges: [
            [97, 98],
            [264, 300],
          ],
        }),
      ),
    ).toThrow(/merges\.1\.1: id 300 is not defined/);
    expect(() => ByteBpeTokenizer.fromJSON(bad({ merges: [[97, 258]] }))).toThrow(
      /merges\.0\.1: id 258 is a special token/,
    );
    expect(() =>
      ByteBpeTokenizer.fromJSON(
        bad({
          merges: [
            [97, 98],
            [97, 98],
          ],
        }),
      ),
    ).toThrow(/merges\.1: pair \[97, 98\] is merged twice/);
    expect(() => ByteBpeTokenizer.fromJSON(bad({ specialTokens: ['<|pad|>'] }))).toThrow(/specialTokens/);
    expect(() => ByteBpeTokenizer.fromJSON(bad({ extra: 1 }))).toThrow(TokenizerFormatError);
    expect(() => ByteBpeTokenizer.fromJSON(null)).toThrow(TokenizerFormatError);
  });

  it('rejects a bad training request', () => {
    expect(() => trainTokenizer({ corpus, vocabSize: 100 })).toThrow(/vocabSize must be an integer in \[264/);
    expect(() => trainTokenizer({ corpus: [1 as unknown as string], vocabSize: 300 })).toThrow(
      /corpus must be an array of strings/,
    );
  });
});
