/**
 * Progress as plain lines, for when the bars cannot be drawn (stderr is not a terminal: a log file, CI, a pipe):
 * one line per phase when it starts, then whenever it has moved on by `everyFraction` of its total or `everyMs`
 * has passed since its last line, and when it finishes, e.g.
 * `progress SFT: 300/1500 steps (20.0%), 4.1 steps/s, ETA 4m 53s`; a phase's first line says `started`, its
 * last `done in <time>`.
 */
export class ProgressLines {
  private readonly phases = new Map<
    string,
    { started: number; startValue: number; lastAt: number; lastValue: number }
  >();

  constructor(
    private readonly write: (line: string) => void,
    private readonly options: { everyMs?: number; everyFraction?: number; now?: () => number } = {},
  ) {}

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** Records that `phase` is at `value` of `total` units; writes a line when one is due. */
  update(phase: string, value: number, total: number, unit: string): void {
    const now = this.now();
    let state = this.phases.get(phase);
    if (!state) {
      state = { started: now, startValue: value, lastAt: now, lastValue: value };
      this.phases.set(phase, state);
      this.write(this.line(phase, value, total, unit, now, state));
      return;
    }
    // A finished phase has said so once; later counts (a phase's total known only roughly) add nothing.
    if (state.lastValue >= total) return;
    const everyMs = this.options.everyMs ?? 10_000;
    const step = Math.max(1, Math.ceil(total * (this.options.everyFraction ?? 0.05)));
    const finished = value >= total && state.lastValue < total;
    // Units read in the same instant as the phase's first line have no rate yet: wait for the next due line.
    if (!finished && now === state.started) return;
    if (finished || now - state.lastAt >= everyMs || value - state.lastValue >= step) {
      state.lastAt = now;
      state.lastValue = value;
      this.write(this.line(phase, value, total, unit, now, state));
    }
  }

  private line(
    phase: string,
    value: number,
    total: number,
    unit: string,
    now: number,
    state: { started: number; startValue: number },
  ): string {
    const share = total > 0 ? ((value / total) * 100).toFixed(1) : '0.0';
    const head = `progress ${phase}: ${value}/${total} ${unit} (${share}%)`;
    const seconds = (now - state.started) / 1000;
    if (value >= total) return `${head}, done in ${duration(seconds)}`;
    // The rate counts from the phase's first recorded unit, so the first line has none yet.
    if (seconds <= 0 || value <= state.startValue) return `${head}, started`;
    const rate = (value - state.startValue) / seconds;
    return `${head}, ${rate.toFixed(1)} ${unit}/s, ETA ${duration((total - value) / rate)}`;
  }
}

/** `1h 02m`, `4m 05s`, `12s`. */
export function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}
