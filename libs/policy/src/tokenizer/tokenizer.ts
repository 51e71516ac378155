import { canonicalJson, sha256Hex } from '@recon/canonical';
import { mergePair, pairKey } from './pair-key';
import { PRETOKENIZERS, pretokenize, pretokenizerNamed, type PretokenizerName } from './pretokenize';
import { parseSerializedTokenizer, type SerializedTokenizer, TOKENIZER_FORMAT } from './serialize';
import {
  BYTE_TOKENS,
  FIRST_MERGE_ID,
  SPECIAL_TOKEN_IDS,
  SPECIAL_TOKENS,
  type SpecialTokenIds,
  splitOnSpecialTokens,
} from './special-tokens';

const WORD_CACHE_LIMIT = 200_000;

export interface ChatTurn {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/**
 * A trained byte-level BPE. Ids: 0..255 bytes, 256..263 special tokens, then one id per merge in merge
 * order (merge i produces id 264 + i, and its rank is i: lower ranks apply first when encoding).
 */
export class ByteBpeTokenizer {
  readonly vocabSize: number;
  readonly specialTokens: Readonly<SpecialTokenIds> = SPECIAL_TOKEN_IDS;
  /** sha256 hex of the canonical JSON serialisation; the blob store keys the artefact by it. */
  readonly contentHash: string;
  private readonly merges: ReadonlyArray<readonly [number, number]>;
  private readonly ranks = new Map<number, number>();
  private readonly tokenBytes: Buffer[] = [];
  private readonly wordCache = new Map<string, readonly number[]>();

  /** How text is cut before merging; `words` (no token spans two words) unless trained otherwise. */
  constructor(
    merges: ReadonlyArray<readonly [number, number]>,
    readonly pretokenizer: PretokenizerName = 'words',
  ) {
    this.merges = merges.map(([a, b]) => [a, b] as const);
    for (let id = 0; id < BYTE_TOKENS; id++) this.tokenBytes.push(Buffer.from([id]));
    for (const token of SPECIAL_TOKENS) this.tokenBytes.push(Buffer.from(token, 'utf8'));
    this.merges.forEach(([a, b], rank) => {
      this.ranks.set(pairKey(a, b), rank);
      this.tokenBytes.push(Buffer.concat([this.tokenBytes[a], this.tokenBytes[b]]));
    });
    this.vocabSize = FIRST_MERGE_ID + this.merges.length;
    this.contentHash = sha256Hex(canonicalJson(this.toJSON()));
  }

  static fromJSON(value: unknown): ByteBpeTokenizer {
    const parsed = parseSerializedTokenizer(value);
    return new ByteBpeTokenizer(parsed.merges, pretokenizerNamed(parsed.pretokenizePattern));
  }

  toJSON(): SerializedTokenizer {
    return {
      format: TOKENIZER_FORMAT,
      pretokenizePattern: PRETOKENIZERS[this.pretokenizer],
      specialTokens: [...SPECIAL_TOKENS],
      merges: this.merges.map(([a, b]) => [a, b]),
    };
  }

  /**
   * Special-token strings in the text (e.g. `</think>`) become their single ids; everything else is BPE.
   * Lone UTF-16 surrogates are not valid text and come back from decode as U+FFFD.
   */
  encode(text: string): number[] {
    const ids: number[] = [];
    for (const part of splitOnSpecialTokens(text)) {
      if (part.special !== undefined) {
        ids.push(part.special);
        continue;
      }
      for (const word of pretokenize(part.text, this.pretokenizer)) {
        for (const id of this.encodeWord(word)) ids.push(id);
      }
    }
    return ids;
  }

  decode(ids: readonly number[]): string {
    const chunks: Buffer[] = [];
    for (const [position, id] of ids.entries()) {
      const bytes = Number.isInteger(id) ? this.tokenBytes[id] : undefined;
      if (bytes === undefined)
        throw new RangeError(
          `decode: ids[${position}] = ${id} is not a token id (vocab size ${this.vocabSize})`,
        );
      chunks.push(bytes);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  /** The bytes a token stands for (special tokens: their UTF-8 text). */
  bytesOf(id: number): Uint8Array {
    const bytes = this.tokenBytes[id];
    if (bytes === undefined)
      throw new RangeError(`bytesOf: ${id} is not a token id (vocab size ${this.vocabSize})`);
    return bytes;
  }

  /**
   * Chat template: `<|bos|>` then, per message, the role token, the content and `<|eos|>`; with
   * `addGenerationPrompt` a trailing `<|assistant|>` so the policy continues as the assistant.
   */
  encodeChat(messages: readonly ChatTurn[], options: { addGenerationPrompt?: boolean } = {}): number[] {
    const roleIds = {
      system: SPECIAL_TOKEN_IDS.system,
      user: SPECIAL_TOKEN_IDS.user,
      assistant: SPECIAL_TOKEN_IDS.assistant,
    };
    const ids: number[] = [SPECIAL_TOKEN_IDS.bos];
    for (const [i, message] of messages.entries()) {
      const roleId = roleIds[message.role];
      if (roleId === undefined)
        throw new TypeError(
          `encodeChat: messages[${i}].role must be system, user or assistant, got ${String(message.role)}`,
        );
      if (typeof message.content !== 'string')
        throw new TypeError(`encodeChat: messages[${i}].content must be a string`);
      // A loop, not push(...ids): spreading a long message as arguments overflows the call stack.
      ids.push(roleId);
      for (const id of this.encode(message.content)) ids.push(id);
      ids.push(SPECIAL_TOKEN_IDS.eos);
    }
    if (options.addGenerationPrompt) ids.push(SPECIAL_TOKEN_IDS.assistant);
    return ids;
  }

  private encodeWord(word: string): readonly number[] {
    const cached = this.wordCache.get(word);
    if (cached !== undefined) return cached;
    let symbols: number[] = Array.from(Buffer.from(word, 'utf8'));
    while (symbols.length > 1) {
      let bestRank = Infinity;
      let bestIndex = -1;
      for (let i = 0; i + 1 < symbols.length; i++) {
        const rank = this.ranks.get(pairKey(symbols[i], symbols[i + 1]));
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          bestIndex = i;
        }
      }
      if (bestIndex < 0) break;
      const [a, b] = this.merges[bestRank];
      symbols = mergePair(symbols, a, b, FIRST_MERGE_ID + bestRank);
    }
    // Bounded so a long-lived sampler does not grow without limit; a cleared cache only costs re-merging.
    if (this.wordCache.size >= WORD_CACHE_LIMIT) this.wordCache.clear();
    this.wordCache.set(word, symbols);
    return symbols;
  }
}
