import { SPECIAL_TOKEN_IDS, trainTokenizer } from '@recon/policy';
import { ByteTokenText } from './builtin-chat-policy';
import { CompletionText } from './completion-text';

const tokenizer = trainTokenizer({ corpus: ['Alice and Bob choose A or B.'], vocabSize: 270 });
/** Byte tokens are ids 0..255. */
const bytes = (text: string) => [...Buffer.from(text, 'utf8')];

/** The deltas a completion sends for `ids`, then the rest at its end. */
function deltas(ids: number[], stop: string[] = []) {
  const text = new CompletionText(new ByteTokenText(tokenizer), stop);
  const sent = ids.map((id) => text.push(id).delta);
  return { sent, end: text.end(), value: text.value };
}

describe('the text of a completion', () => {
  it('leaves out the chat template control tokens and keeps <think> markers', () => {
    const s = SPECIAL_TOKEN_IDS;
    const ids = [
      s.pad,
      s.bos,
      ...bytes('A'),
      s.user,
      s.thinkStart,
      ...bytes('B'),
      s.thinkEnd,
      s.assistant,
      s.system,
    ];
    const { sent, end, value } = deltas(ids);
    expect(sent.join('') + end).toBe('A<think>B</think>');
    expect(value).toBe('A<think>B</think>');
  });

  it('holds back the bytes of a character split over tokens and drops bytes that are not UTF-8', () => {
    expect(deltas(bytes('é€')).sent).toEqual(['', 'é', '', '', '€']);
    const invalid = deltas([0x80, ...bytes('a'), 0xff, 0xc3, ...bytes('b')]);
    expect(invalid.sent.join('') + invalid.end).toBe('ab');
    // A character cut off by the end of the completion is dropped, not replaced.
    const cut = deltas([...bytes('ok'), 0xe2, 0x82]);
    expect(cut.sent.join('') + cut.end).toBe('ok');
    expect(cut.value).not.toContain('\uFFFD');
  });

  it('holds back what may begin a stop string and ends before the first one', () => {
    const { sent, end, value } = deltas(bytes('xENxyEND tail'), ['END']);
    expect(sent.slice(0, 6)).toEqual(['x', '', '', 'ENx', 'y', '']);
    expect(sent.join('') + end).toBe('xENxy');
    expect(value).toBe('xENxy');
    const earliest = deltas(bytes('a--b'), ['b', '--']);
    expect(earliest.sent.join('') + earliest.end).toBe('a');
    const unfinished = deltas(bytes('abE'), ['END']);
    expect(unfinished.sent.join('')).toBe('ab');
    expect(unfinished.end).toBe('E');
  });
});
