import type { EvaluationSample, ExternalSuite, PayloadOf } from '@recon/contracts';
import { storableText } from '@recon/contracts';
import { exactAnswerGrade, paperEvalGrade, tagProblem, type ChatMessage } from '@recon/econ';
import { deterministicEventId, type BlobStore, type EventStore, type NewEvent } from '@recon/eventlog';
import {
  COMPLETE_INFO_GAMES,
  GTBENCH_TEXT_GAMES,
  parseInvalidPolicy,
  runCompleteInfoTrial,
  runGtbenchMatch,
  scheduleMatches,
  type GameEvent,
  type GameFinishedPayload,
} from '@recon/games';
import { evaluationProducer } from '../evaluation.worker';
import type { GtbenchOpponentSetting } from '@recon/experiment';
import { PolicyCache } from '@recon/policy-runtime';
import { suiteOpponents } from '../gtbench-opponents';
import { completeInfoResults, gtbenchResults, problemSuiteResults, type GradedItem } from '../suite-results';
import { ExternalAgent } from './external-agent';
import { RecordedChatModel, type ExternalModel } from './recorded-chat';
import { NEW_EVALUATION, recordedProgress, type RecordedProgress } from './recorded-progress';

/** The stage external evaluations are recorded under (the built-in stages are untrained, sft, grpo). */
export const EXTERNAL_STAGE = 'external';

export interface ReconEvalItem {
  messages: ChatMessage[];
  gold: string;
  category?: string;
  itemId?: string;
  index: number;
}

export interface ExternalEvaluationOptions {
  /** The evaluation's stream id. */
  evalId: string;
  model: ExternalModel;
  suites: ExternalSuite[];
  seed: number;
  /** Completion budget of every request. */
  maxTokens: number;
  reconEval?: {
    dataset: { name: string; versionHash: string; rowCount: number };
    items: ReconEvalItem[];
    temperature: number;
    /** How `items` were drawn from the dataset (recorded in `evaluation.completed`). */
    sample?: EvaluationSample;
  };
  completeInfo: { trials: number; temperature: number; reasks: number };
  gtbench: {
    matches: number;
    temperature: number;
    opponents: GtbenchOpponentSetting[];
    /** The games to play; absent: all ten. */
    games?: string[];
    invalidPolicy: 'forfeit' | 'abnormal' | 'reask';
    reasks: number;
  };
  requestedBy: string;
  codeVersion: string;
  signal?: AbortSignal;
  onProgress?: (suite: ExternalSuite, done: number, total: number) => void;
}

export interface ExternalEvaluationStores {
  eventStore: EventStore;
  blobStore: BlobStore;
}

/**
 * Evaluates an OpenAI-compatible model on the named suites into a stream of its own: first
 * `external.evaluation.requested`, then every request and response (`external.request.*`), the graded items
 * and game moves as the evaluation service records them for a built-in policy (`evaluation.item.scored`,
 * `game.move`, `game.finished`) and `evaluation.completed` with the same headline keys, at stage `external`.
 * A request that keeps failing stops the evaluation with `run.failed` naming it, and is thrown.
 *
 * An id whose stream already holds an evaluation requested with the same settings resumes it (recorded as
 * `external.evaluation.resumed`): scored items and finished matches are kept, the rest is asked; one that
 * completed returns its recorded results. Other settings throw an ExternalEvaluationConflictError.
 */
export async function runExternalEvaluation(
  options: ExternalEvaluationOptions,
  stores: ExternalEvaluationStores,
): Promise<Record<string, number>> {
  const { evalId } = options;
  const append = (events: NewEvent[], expectedVersion: 'any' | 'no-stream' = 'any') =>
    stores.eventStore.append(evalId, events, { expectedVersion, producer: evaluationProducer() });
  // An opponent that cannot play (a checkpoint of a run not in this home, an unset key variable) is refused
  // before anything is recorded, not once the games start: built here to check it (no request, no policy load).
  if (options.suites.includes('gtbench'))
    await gtbenchOpponents(options, stores, new Map(), new PolicyCache(stores.blobStore, 1));
  const progress = await startOrResume(options, stores, append);
  if (progress.completed) return progress.completed;

  const stop = new AbortController();
  const onOuterAbort = () => stop.abort(new Error('evaluation interrupted'));
  if (options.signal?.aborted) onOuterAbort();
  else options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const model = new RecordedChatModel(stores, evalId, options.model, stop.signal, progress.attempts);
  const context: SuiteContext = { options, model, append, stop, progress, stores };
  const results: Record<string, number> = {};
  let suite: ExternalSuite | undefined;
  try {
    for (suite of options.suites) {
      if (suite === 'recon-eval') Object.assign(results, await reconEval(context));
      if (suite === 'complete-info') Object.assign(results, await completeInformation(context));
      if (suite === 'gtbench') Object.assign(results, await gtbench(context));
    }
  } catch (error) {
    await append([
      {
        eventId: deterministicEventId(evalId, 'run.failed', 'external-evaluation', ...resumed(progress)),
        type: 'run.failed',
        payload: {
          phase: `external-evaluation:${suite ?? '-'}`,
          error: (error as Error).message.slice(0, 2000),
        },
      },
    ]);
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', onOuterAbort);
  }
  await append([
    {
      eventId: deterministicEventId(evalId, 'evaluation.completed', EXTERNAL_STAGE),
      type: 'evaluation.completed',
      // No training split to count answer baselines on: an external model is evaluated, not trained.
      payload: {
        stage: EXTERNAL_STAGE,
        checkpointHash: externalPolicyName(options.model),
        results,
        baselines: [],
        ...(options.reconEval?.sample ? { samples: [options.reconEval.sample] } : {}),
      },
    },
    {
      eventId: deterministicEventId(evalId, 'run.completed'),
      type: 'run.completed',
      payload: { summary: headlineResults(results) },
    },
  ]);
  return results;
}

/** Appends the request of a new evaluation, or checks and records the resumption of a stopped one. */
async function startOrResume(
  options: ExternalEvaluationOptions,
  stores: ExternalEvaluationStores,
  append: (events: NewEvent[], expectedVersion?: 'any' | 'no-stream') => Promise<unknown>,
): Promise<RecordedProgress> {
  const { evalId } = options;
  const requested = requestedPayload(options);
  const recorded = await stores.eventStore.readStream(evalId);
  if (recorded.length === 0) {
    await append(
      [
        {
          eventId: deterministicEventId(evalId, 'external.evaluation.requested'),
          type: 'external.evaluation.requested',
          payload: requested,
        },
      ],
      'no-stream',
    );
    return NEW_EVALUATION;
  }
  const progress = recordedProgress(evalId, recorded, requested);
  if (progress.completed) return progress;
  const payload: PayloadOf<'external.evaluation.resumed'> = {
    resumption: progress.resumption,
    kept: { reconEvalItems: progress.scored.size, matches: progress.finished.size },
    requestedBy: options.requestedBy,
    codeVersion: options.codeVersion,
  };
  await append([
    {
      eventId: deterministicEventId(evalId, 'external.evaluation.resumed', progress.resumption),
      type: 'external.evaluation.resumed',
      payload,
    },
  ]);
  return progress;
}

/** Event id parts of what a resumption records again under a name its stopped run may have used. */
function resumed(progress: RecordedProgress): Array<string | number> {
  return progress.resumption > 0 ? ['resumption', progress.resumption] : [];
}

/** The overall numbers of each suite (no per-game or per-category cells). */
export function headlineResults(results: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(results).filter(([key]) => /^recon-eval\.[^.]+$|\.overall\./.test(key)),
  );
}

/** How an external policy is named where a built-in one has its checkpoint hash. */
export function externalPolicyName(model: Pick<ExternalModel, 'baseUrl' | 'model'>): string {
  return `openai:${model.model}@${model.baseUrl}`;
}

function requestedPayload(options: ExternalEvaluationOptions): PayloadOf<'external.evaluation.requested'> {
  const { baseUrl, model, concurrency, retries, timeoutMs, minBackoffMs } = options.model;
  return {
    policy: { kind: 'openai', baseUrl, model },
    suites: options.suites,
    seed: options.seed,
    settings: {
      maxTokens: options.maxTokens,
      concurrency,
      retries,
      timeoutMs,
      minBackoffMs,
      ...(options.reconEval
        ? { reconEval: { items: options.reconEval.items.length, temperature: options.reconEval.temperature } }
        : {}),
      ...(options.suites.includes('complete-info') ? { completeInfo: options.completeInfo } : {}),
      ...(options.suites.includes('gtbench') ? { gtbench: options.gtbench } : {}),
    },
    datasets: options.reconEval ? [{ role: 'eval', ...options.reconEval.dataset }] : [],
    requestedBy: options.requestedBy,
    codeVersion: options.codeVersion,
  };
}

interface SuiteContext {
  options: ExternalEvaluationOptions;
  model: RecordedChatModel;
  append: (events: NewEvent[]) => Promise<unknown>;
  stop: AbortController;
  progress: RecordedProgress;
  stores: ExternalEvaluationStores;
}

/** Runs tasks together (the model's concurrency limit paces them); the first failure stops the rest. */
async function allOrStop<T>(context: SuiteContext, tasks: Array<() => Promise<T>>): Promise<T[]> {
  const settled = await Promise.allSettled(
    tasks.map((task) =>
      task().catch((error: unknown) => {
        if (!context.stop.signal.aborted) context.stop.abort(error);
        throw error;
      }),
    ),
  );
  if (context.stop.signal.aborted) throw context.stop.signal.reason as Error;
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}

async function reconEval(context: SuiteContext): Promise<Record<string, number>> {
  const { options, model, append } = context;
  const settings = options.reconEval;
  if (!settings) throw new Error('the recon-eval suite needs the Recon-Eval dataset');
  let done = 0;
  const graded = await allOrStop(
    context,
    settings.items.map((row) => async (): Promise<GradedItem> => {
      const itemId = row.itemId ?? `row-${row.index}`;
      const kept = context.progress.scored.get(itemId);
      if (kept) {
        options.onProgress?.('recon-eval', ++done, settings.items.length);
        return kept;
      }
      const completion = await model.complete(`recon-eval/${itemId}`, 'recon-eval', row.messages, {
        temperature: settings.temperature,
        maxTokens: options.maxTokens,
        seed: row.index,
      });
      const result = paperEvalGrade(completion, row.gold);
      const verdicts = { exact: exactAnswerGrade(completion, row.gold).correct, paper: result.correct };
      // Imported Recon rows carry no category: the tagger assigns one of the paper's 15 from the prompt.
      const category = row.category ?? tagProblem(row.messages.map((m) => m.content).join('\n'));
      await append([
        {
          eventId: deterministicEventId(
            options.evalId,
            'evaluation.item.scored',
            EXTERNAL_STAGE,
            'recon-eval',
            itemId,
          ),
          type: 'evaluation.item.scored',
          payload: {
            suite: 'recon-eval',
            stage: EXTERNAL_STAGE,
            itemId,
            category,
            completion,
            parsedAnswer:
              result.parsed === null || result.parsed === undefined ? null : storableText(result.parsed),
            gold: row.gold,
            correct: result.correct,
            verdicts,
          },
        },
      ]);
      options.onProgress?.('recon-eval', ++done, settings.items.length);
      return { category, gold: row.gold, correct: result.correct, verdicts };
    }),
  );
  return problemSuiteResults('recon-eval', graded);
}

/**
 * Each match records its moves under its own ids, so matches run concurrently into one stream. A match's
 * events are appended together when it finishes: a match cut short (a failing request, Ctrl-C) leaves no
 * moves behind, and a resumed evaluation plays it again from the start.
 */
function emitterFor(context: SuiteContext, matchId: string) {
  let index = 0;
  const pending: NewEvent[] = [];
  return async (event: GameEvent) => {
    pending.push({
      eventId: deterministicEventId(
        context.options.evalId,
        event.type,
        EXTERNAL_STAGE,
        matchId,
        index++,
        ...resumed(context.progress),
      ),
      type: event.type,
      payload: event.payload,
    } as NewEvent);
    if (event.type === 'game.finished') await context.append(pending.splice(0));
  };
}

async function completeInformation(context: SuiteContext): Promise<Record<string, number>> {
  const { options, model } = context;
  const settings = options.completeInfo;
  const policy =
    settings.reasks > 0 ? { kind: 'reask' as const, times: settings.reasks } : { kind: 'forfeit' as const };
  const matches = COMPLETE_INFO_GAMES.flatMap((game) =>
    scheduleMatches(
      `${options.evalId}/${EXTERNAL_STAGE}`,
      options.seed,
      game.name,
      'self-play',
      settings.trials,
    ).map((match) => ({ game, match })),
  );
  let done = 0;
  const finished = await allOrStop(
    context,
    matches.map(({ game, match }) => async () => {
      const kept = context.progress.finished.get(match.matchId);
      if (kept) {
        options.onProgress?.('complete-info', ++done, matches.length);
        return kept;
      }
      const agent = new ExternalAgent(
        model,
        { matchId: match.matchId, seed: match.seed, suite: 'complete-info' },
        { temperature: settings.temperature, maxTokens: options.maxTokens },
      );
      const result = await runCompleteInfoTrial(game, agent, {
        matchId: match.matchId,
        stage: EXTERNAL_STAGE,
        seed: match.seed,
        policy,
        emit: emitterFor(context, match.matchId),
      });
      options.onProgress?.('complete-info', ++done, matches.length);
      return result;
    }),
  );
  return completeInfoResults(
    COMPLETE_INFO_GAMES.map((game) => ({
      game: game.name,
      finished: finished.filter((_, i) => matches[i].game === game),
    })),
  );
}

/** The GTBench opponents of an evaluation; an LLM opponent's requests number on from `attempts`. */
function gtbenchOpponents(
  options: ExternalEvaluationOptions,
  stores: ExternalEvaluationStores,
  attempts: Map<string, number>,
  policies: PolicyCache,
  signal?: AbortSignal,
) {
  const settings = options.gtbench;
  return suiteOpponents(settings.opponents, {
    stores,
    streamId: options.evalId,
    suite: { temperature: settings.temperature, maxTokens: options.maxTokens },
    loadPolicy: (hash) => policies.get(hash),
    recorded: { attempts, answered: new Map() },
    signal,
  });
}

async function gtbench(context: SuiteContext): Promise<Record<string, number>> {
  const { options, model } = context;
  const settings = options.gtbench;
  const invalid = parseInvalidPolicy(
    settings.invalidPolicy === 'reask' ? `reask:${settings.reasks}` : settings.invalidPolicy,
  );
  // LLM opponents record their requests on this stream; checkpoint opponents (of a named run) stay loaded.
  const policies = new PolicyCache(context.stores.blobStore, Math.max(1, settings.opponents.length));
  const opponents = await gtbenchOpponents(
    options,
    context.stores,
    context.progress.attempts,
    policies,
    context.stop.signal,
  );
  const games = GTBENCH_TEXT_GAMES.filter((t) => !settings.games || settings.games.includes(t.game.name));
  const cells = (
    await Promise.all(
      games.flatMap((textGame) =>
        opponents.map(async ({ name, forGame }) => {
          const opponent = await forGame(textGame.game.name, undefined);
          return opponent ? [{ textGame, name, opponent }] : [];
        }),
      ),
    )
  ).flat();
  const matches = cells.flatMap((cell) =>
    scheduleMatches(
      `${options.evalId}/${EXTERNAL_STAGE}`,
      options.seed,
      cell.textGame.game.name,
      cell.opponent.name,
      settings.matches,
    ).map((match) => ({ cell, match })),
  );
  let done = 0;
  const finished: GameFinishedPayload[] = await allOrStop(
    context,
    matches.map(({ cell, match }) => async () => {
      const kept = context.progress.finished.get(match.matchId);
      if (kept) {
        options.onProgress?.('gtbench', ++done, matches.length);
        return kept;
      }
      const agent = new ExternalAgent(
        model,
        { matchId: match.matchId, seed: match.seed, suite: 'gtbench' },
        { temperature: settings.temperature, maxTokens: options.maxTokens },
      );
      const result = await runGtbenchMatch(cell.textGame, agent, cell.opponent.forMatch(match), {
        match,
        stage: EXTERNAL_STAGE,
        policy: invalid,
        emit: emitterFor(context, match.matchId),
      });
      options.onProgress?.('gtbench', ++done, matches.length);
      return result;
    }),
  );
  policies.clear();
  return gtbenchResults(
    cells.map((cell) => ({
      game: cell.textGame.game.name,
      opponent: cell.name,
      finished: finished.filter((_, i) => matches[i].cell === cell),
    })),
  );
}
