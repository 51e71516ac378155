import type { BlobStore } from '@recon/eventlog';
import {
  HfTokenizer,
  loadAdapterCheckpoint,
  PretrainedChatTokens,
  type PretrainedSource,
} from '@recon/pretrained';
import type { ChatPolicy, TokenText } from './chat-policy';

const REPLACEMENT = /\uFFFD/g;

/**
 * A Hugging Face tokenizer's reply text, decoded incrementally as vLLM does: each token's text is the
 * decoding of a short window of recent ids minus that of the window without it, so a SentencePiece space or a
 * character split over byte-level tokens comes out right; text ending in an incomplete character (U+FFFD)
 * is held back until it completes, and U+FFFD never appears. Special tokens are left out.
 */
export class HfTokenText implements TokenText {
  private readonly ids: number[] = [];
  private prefixOffset = 0;
  private readOffset = 0;

  constructor(private readonly tokenizer: Pick<HfTokenizer, 'decode'>) {}

  push(id: number): string {
    this.ids.push(id);
    const prefix = this.decode(this.prefixOffset, this.readOffset);
    const text = this.decode(this.prefixOffset, this.ids.length);
    if (text.length <= prefix.length || text.endsWith('\uFFFD')) return '';
    this.prefixOffset = this.readOffset;
    this.readOffset = this.ids.length;
    return text.slice(prefix.length).replace(REPLACEMENT, '');
  }

  end(): string {
    const prefix = this.decode(this.prefixOffset, this.readOffset);
    const text = this.decode(this.prefixOffset, this.ids.length);
    this.prefixOffset = this.readOffset = this.ids.length;
    return text.slice(prefix.length).replace(REPLACEMENT, '');
  }

  private decode(from: number, to: number): string {
    return from === to ? '' : this.tokenizer.decode(this.ids.slice(from, to), true);
  }
}

/**
 * A pretrained run's stage as a chat policy: the directory the run recorded (refused when its files changed)
 * with the stage's LoRA adapters, its tokenizer and chat template. A reply ends at the tokenizer's
 * end-of-sequence token or any of config.json's eos_token_id.
 */
export async function pretrainedChatPolicy(
  blobStore: BlobStore,
  source: PretrainedSource,
  checkpointHash: string,
): Promise<ChatPolicy> {
  const { model, spec } = loadAdapterCheckpoint(source, await blobStore.get(checkpointHash), checkpointHash);
  try {
    const tokenizer = HfTokenizer.load(source.path);
    const tokens = new PretrainedChatTokens(tokenizer, spec);
    if (!tokenizer.hasChatTemplate())
      throw new Error(
        `${source.path}: the tokenizer has no chat template, so chat messages cannot be served`,
      );
    return {
      checkpointHash,
      model,
      chat: tokens,
      endIds: new Set([tokens.specialTokens.eos, ...spec.eosTokenIds]),
      longestTokenChars: () => tokenizer.longestTokenChars,
      replyText: () => new HfTokenText(tokenizer),
      dispose: () => model.dispose(),
    };
  } catch (error) {
    model.dispose();
    throw error;
  }
}
