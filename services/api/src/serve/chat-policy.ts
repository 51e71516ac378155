import type { ByteBpeTokenizer, DecodingModel } from '@recon/policy';

/** The text of one reply as its tokens come: what is final after each token, and the rest at the end. */
export interface TokenText {
  push(id: number): string;
  end(): string;
}

/**
 * What `recon serve` needs of a policy, whichever kind it is (a built-in checkpoint, or a pretrained
 * checkpoint directory with a run's LoRA adapters): a model to decode with, its chat template, the ids that
 * end a reply and a way to turn reply tokens into text.
 */
export interface ChatPolicy {
  /** The checkpoint served (its prefix is the completions' system_fingerprint). */
  checkpointHash: string;
  model: DecodingModel;
  /** The chat template: a conversation's prompt ids (ending with the assistant turn's opening when asked). */
  chat: Pick<ByteBpeTokenizer, 'encodeChat'>;
  /** Token ids that end a reply. */
  endIds: ReadonlySet<number>;
  /** The most prompt characters (UTF-16 units) one token can stand for: how much of a long prompt can matter. */
  longestTokenChars(): number;
  /** A new reply's text decoder. */
  replyText(): TokenText;
  dispose(): void;
}
