import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { EventStore, RecordedEvent } from '@recon/eventlog';
import { decodingModes, type ExperimentConfig } from '@recon/experiment';
import { ProgressLines } from './progress-lines';
import { expectedStages } from '@recon/api';

/** Bars on a terminal, plain periodic lines elsewhere (a log shows the run is alive), or nothing. */
export type ProgressMode = 'bars' | 'lines' | false;

/** The progress a CLI command shows on stderr: none when asked for none or for JSON, else bars on a terminal. */
export function progressModeFor(wanted: boolean, stream: { isTTY?: boolean } = process.stderr): ProgressMode {
  if (!wanted) return false;
  return stream.isTTY === true ? 'bars' : 'lines';
}

/** The user stopped the CLI (Ctrl-C) while it followed a run; the run itself can be resumed. */
export class RunFollowStoppedError extends Error {
  constructor(readonly runId: string) {
    super(`stopped while following run ${runId} (it can be resumed: recon resume ${runId})`);
    this.name = 'RunFollowStoppedError';
  }
}

export type RunOutcome =
  | { status: 'completed'; summary: Record<string, number> }
  | { status: 'failed'; phase: string; error: string };

/**
 * Units of evaluation work per stage: held-out items, complete-information trials and GTBench matches, the
 * game suites once per decoding mode they play.
 */
export function evaluationUnits(config: ExperimentConfig): number {
  const e = config.evaluation;
  const heldOut = e.heldOut?.items ?? 0;
  const trials = (e.completeInformation?.trials ?? 0) * 10 * decodingModes(e.completeInformation?.decoding).length;
  const matches =
    (e.gtbench?.matches ?? 0) *
    (e.gtbench?.games?.length ?? 10) *
    (e.gtbench?.opponents.length ?? 0) *
    decodingModes(e.gtbench?.decoding).length;
  return heldOut + trials + matches;
}

/**
 * Follows a run through its events (the same way in both deployments): progress per phase with rates and
 * ETA (bars, or plain lines when stderr is not a terminal), until `run.completed` or `run.failed`. Polls the
 * run's stream.
 */
export async function watchRun(
  eventStore: EventStore,
  runId: string,
  config: ExperimentConfig,
  options: {
    signal: AbortSignal;
    /** `true` means bars. */
    progress: ProgressMode | true;
    failure: () => Error | null;
    pollMs?: number;
    /** Where plain progress lines go (default stderr). */
    writeLine?: (line: string) => void;
  },
): Promise<RunOutcome> {
  const mode: ProgressMode = options.progress === true ? 'bars' : options.progress;
  const lines =
    mode === 'lines'
      ? new ProgressLines(options.writeLine ?? ((line) => process.stderr.write(`${line}\n`)))
      : null;
  const counts = new Map<string, number>();
  const multibar =
    mode === 'bars'
      ? new MultiBar(
          {
            format: ' {phase} |{bar}| {value}/{total} {unit} | {rate}/s | ETA {eta_formatted}',
            hideCursor: true,
            clearOnComplete: false,
          },
          Presets.shades_classic,
        )
      : null;
  const bars = new Map<string, SingleBar>();
  const started = new Map<string, number>();
  const bump = (phase: string, total: number, unit: string, by = 1) => {
    if (total <= 0) return;
    if (lines) {
      const value = Math.min(total, (counts.get(phase) ?? 0) + by);
      counts.set(phase, value);
      lines.update(phase, value, total, unit);
      return;
    }
    if (!multibar) return;
    let bar = bars.get(phase);
    if (!bar) {
      bar = multibar.create(total, 0, { phase: phase.padEnd(16), unit, rate: '0' });
      bars.set(phase, bar);
      started.set(phase, Date.now());
    }
    const value = Math.min(total, bar.getProgress() * total + by);
    const seconds = (Date.now() - started.get(phase)!) / 1000;
    bar.update(value, { rate: seconds > 0 ? (value / seconds).toFixed(1) : '0' });
  };
  const units = evaluationUnits(config);
  const evaluated = new Set(expectedStages(config));
  const currentStage = { value: 'untrained' };
  let position = 0;
  try {
    for (;;) {
      if (options.signal.aborted) throw new RunFollowStoppedError(runId);
      const failure = options.failure();
      if (failure) throw failure;
      const events: RecordedEvent[] = await eventStore.readStream(runId, { fromPosition: position + 1 });
      for (const event of events) {
        position = event.position;
        switch (event.type) {
          case 'sft.step.completed':
            bump('SFT', config.sft?.steps ?? 0, 'steps');
            break;
          case 'grpo.step.completed':
            bump('GRPO', config.grpo?.steps ?? 0, 'steps');
            break;
          case 'policy.ready':
            currentStage.value = event.payload.stage;
            break;
          case 'evaluation.item.scored': {
            const stage = event.payload.stage;
            if (evaluated.has(stage as never)) bump(`eval ${stage}`, units, 'items');
            break;
          }
          case 'game.finished': {
            const stage = event.payload.stage;
            if (evaluated.has(stage as never)) bump(`eval ${stage}`, units, 'items');
            break;
          }
          case 'run.completed':
            return { status: 'completed', summary: event.payload.summary };
          case 'run.failed': {
            const failed = event.payload;
            return { status: 'failed', phase: failed.phase, error: failed.error };
          }
        }
      }
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
    }
  } finally {
    multibar?.stop();
  }
}
