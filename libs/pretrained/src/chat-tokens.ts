import type { ChatTurn } from '@recon/policy';
import type { ModelSpec } from './hf-config';
import type { HfTokenizer } from './hf-tokenizer';

/**
 * A checkpoint's tokenizer in the shape the run pipeline's SFT examples and prompts use
 * (`encodeChat`, `encode`, `decode`, `specialTokens`): chats through the checkpoint's own chat template.
 */
export class PretrainedChatTokens {
  readonly specialTokens: { eos: number; pad: number };

  constructor(
    private readonly tokenizer: HfTokenizer,
    spec: ModelSpec,
  ) {
    const eos =
      (tokenizer.eosToken !== undefined ? tokenizer.tokenId(tokenizer.eosToken) : undefined) ??
      spec.eosTokenIds[0];
    if (eos === undefined)
      throw new Error('the checkpoint names no end-of-sequence token (tokenizer_config.json eos_token)');
    this.specialTokens = { eos, pad: eos };
  }

  encode(text: string): number[] {
    return this.tokenizer.encode(text);
  }

  decode(ids: readonly number[]): string {
    return this.tokenizer.decode(ids, true);
  }

  /** The chat template's prompt ids (ending with the assistant turn's opening when asked). */
  encodeChat(messages: readonly ChatTurn[], options: { addGenerationPrompt?: boolean } = {}): number[] {
    return this.tokenizer.encode(
      this.tokenizer.applyChatTemplate(messages, options.addGenerationPrompt ?? false),
    );
  }
}
