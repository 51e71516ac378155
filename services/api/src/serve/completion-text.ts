import { SPECIAL_TOKEN_IDS, type ByteBpeTokenizer } from '@recon/policy';

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
 * The text of one completion, built token by token as it streams:
 * - control tokens are left out;
 * - the bytes of a character split over tokens are held back until it is complete, and bytes that are not
 *   UTF-8 at all are dropped, so no U+FFFD appears;
 * - text that could be the start of a stop string is held back until it is known not to be one, and the
 *   text ends before the first stop string.
 */
export class CompletionText {
  private readonly decoder = new TextDecoder('utf-8');
  private text = '';
  private sent = 0;
  private stopped = false;

  constructor(
    private readonly tokenizer: ByteBpeTokenizer,
    private readonly stop: readonly string[],
  ) {}

  /** Adds a generated token; returns the text that may now be sent, and whether a stop string ended it. */
  push(id: number): { delta: string; stopped: boolean } {
    if (this.stopped) return { delta: '', stopped: true };
    if (!CONTROL_TOKENS.has(id))
      this.text += this.decoder.decode(this.tokenizer.bytesOf(id), { stream: true }).replace(REPLACEMENT, '');
    const cut = this.firstStop();
    if (cut >= 0) {
      this.text = this.text.slice(0, cut);
      this.stopped = true;
      return { delta: this.take(this.text.length), stopped: true };
    }
    return { delta: this.take(this.text.length - this.heldForStop()), stopped: false };
  }

  /** Ends the completion (no more tokens): the rest of the text. */
  end(): string {
    if (!this.stopped) this.text += this.decoder.decode().replace(REPLACEMENT, '');
    return this.take(this.text.length);
  }

  /** The whole text so far, held-back parts included. */
  get value(): string {
    return this.text;
  }

  private take(upTo: number): string {
    const delta = this.text.slice(this.sent, upTo);
    this.sent = Math.max(this.sent, upTo);
    return delta;
  }

  private firstStop(): number {
    let cut = -1;
    for (const stop of this.stop) {
      // A stop string can only end in the text not yet sent.
      const at = this.text.indexOf(stop, Math.max(0, this.sent - stop.length + 1));
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    return cut;
  }

  /** The length of the longest end of the text that begins a stop string. */
  private heldForStop(): number {
    let held = 0;
    for (const stop of this.stop) {
      for (let length = Math.min(stop.length - 1, this.text.length); length > held; length--) {
        if (this.text.endsWith(stop.slice(0, length))) {
          held = length;
          break;
        }
      }
    }
    return held;
  }
}
