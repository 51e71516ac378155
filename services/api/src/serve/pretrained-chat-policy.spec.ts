import * as path from 'node:path';
import { HfTokenizer } from '@recon/pretrained';
import { CompletionText } from './completion-text';
import { HfTokenText } from './pretrained-chat-policy';

const tokenizer = HfTokenizer.load(
  path.resolve(__dirname, '../../../../libs/pretrained/fixtures/tiny-qwen2'),
);

/** What a reply of `ids` sends token by token, then at its end. */
function deltas(ids: number[]) {
  const text = new HfTokenText(tokenizer);
  const sent = ids.map((id) => text.push(id));
  return { sent, end: text.end() };
}

describe("a pretrained checkpoint's reply text", () => {
  it('streams exactly what decoding the whole reply gives, special tokens left out', () => {
    const reply = 'Expected utility of choice_2: 0.5 * 60 = 30. Answer: <s>choice_1</s>';
    const ids = tokenizer.encode(reply);
    const imEnd = tokenizer.tokenId('<|im_end|>')!;
    const { sent, end } = deltas([...ids.slice(0, 5), imEnd, ...ids.slice(5)]);
    expect(sent.join('') + end).toBe(reply);
    expect(sent[5]).toBe('');
    expect(sent.filter((d) => d !== '').length).toBeGreaterThan(5); // it streams, not all at the end
  });

  it('holds back a character split over byte tokens until it completes, and never sends U+FFFD', () => {
    const reply = 'price: 5€ é';
    const ids = tokenizer.encode(reply);
    expect(ids.length).toBeGreaterThan(reply.length); // € and é are several byte tokens each
    const { sent, end } = deltas(ids);
    expect(sent.join('') + end).toBe(reply);
    expect(sent.some((d) => d.includes('\uFFFD'))).toBe(false);
    // A reply cut inside a character drops the incomplete bytes.
    const cut = deltas(ids.slice(0, tokenizer.encode('price: 5').length + 1));
    expect(cut.sent.join('') + cut.end).toBe('price: 5');
  });

  it('holds back a stop string through CompletionText as a built-in reply does', () => {
    const completion = new CompletionText(new HfTokenText(tokenizer), ['Answer']);
    const sent = tokenizer.encode('Think: 0.5 * 60. Answer: 30').map((id) => completion.push(id).delta);
    expect(sent.join('') + completion.end()).toBe('Think: 0.5 * 60. ');
  });

  it('bounds the prompt characters one token stands for by its longest vocabulary entry', () => {
    let longest = 0;
    for (let id = 0; id < 320; id++) longest = Math.max(longest, tokenizer.decode([id]).length);
    expect(longest).toBe(tokenizer.longestTokenChars); // <|begin_of_text|>, 17 characters
    expect(longest).toBe(17);
  });
});
