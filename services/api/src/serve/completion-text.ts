import type { TokenText } from './chat-policy';

/**
 * The text of one completion, built token by token as it streams: the policy's token text (which leaves out
 * control tokens and holds back incomplete characters), of which text that could be the start of a stop
 * string is held back until it is known not to be one, and which ends before the first stop string.
 */
export class CompletionText {
  private text = '';
  private sent = 0;
  private stopped = false;

  constructor(
    private readonly tokens: TokenText,
    private readonly stop: readonly string[],
  ) {}

  /** Adds a generated token; returns the text that may now be sent, and whether a stop string ended it. */
  push(id: number): { delta: string; stopped: boolean } {
    if (this.stopped) return { delta: '', stopped: true };
    this.text += this.tokens.push(id);
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
    if (!this.stopped) this.text += this.tokens.end();
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
