import { SPECIAL_TOKEN_IDS, type ByteBpeTokenizer } from '@recon/policy';
import type { LoadedPolicy } from '@recon/policy-runtime';
import type { ChatPolicy, TokenText } from './chat-policy';

/**
 * The chat template's control tokens: never part of a reply's text. `<think>` and `</think>` are text a
 * reasoning trace is read by, and stay.
 */
const CONTROL_TOKENS = new Set([
  SPECIAL_TOKEN_IDS.pad,
  SPECIAL_TOKEN_IDS.bos,
  SPECIAL_TOKEN_IDS.eos,
  SPECIAL_TOKEN_IDS.system,
  SPECIAL_TOKEN_IDS.user,
  SPECIAL_TOKEN_IDS.assistant,
]);

const REPLACEMENT = /\uFFFD/g;

/**
 * A built-in tokenizer's reply text: control tokens left out; the bytes of a character split over tokens
 * held back until it is complete, and bytes that are not UTF-8 at all dropped, so no U+FFFD appears.
 */
export class ByteTokenText implements TokenText {
  private readonly decoder = new TextDecoder('utf-8');

  constructor(private readonly tokenizer: ByteBpeTokenizer) {}

  push(id: number): string {
    if (CONTROL_TOKENS.has(id)) return '';
    return this.decoder.decode(this.tokenizer.bytesOf(id), { stream: true }).replace(REPLACEMENT, '');
  }

  end(): string {
    return this.decoder.decode().replace(REPLACEMENT, '');
  }
}

const longestToken = new WeakMap<ByteBpeTokenizer, number>();

/** The most bytes one token of the tokenizer stands for (a UTF-16 unit is at least one byte). */
function longestTokenBytes(tokenizer: ByteBpeTokenizer): number {
  let longest = longestToken.get(tokenizer);
  if (longest === undefined) {
    longest = 1;
    for (let id = 0; id < tokenizer.vocabSize; id++)
      longest = Math.max(longest, tokenizer.bytesOf(id).length);
    longestToken.set(tokenizer, longest);
  }
  return longest;
}

/** A built-in checkpoint (its transformer and byte-level BPE tokenizer) as a chat policy. */
export function builtinChatPolicy(
  policy: Pick<LoadedPolicy, 'checkpointHash' | 'model' | 'tokenizer'>,
): ChatPolicy {
  const { model, tokenizer } = policy;
  return {
    checkpointHash: policy.checkpointHash,
    model,
    chat: tokenizer,
    endIds: new Set([tokenizer.specialTokens.eos]),
    longestTokenChars: () => longestTokenBytes(tokenizer),
    replyText: () => new ByteTokenText(tokenizer),
    dispose: () => model.dispose(),
  };
}
