import type { ExternalSuite, PayloadOf } from '@recon/contracts';
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
import { opponentFor, type OpponentName } from '../opponents';
import { completeInfoResults, gtbenchResults, problemSuiteResults } from '../suite-results';
import { ExternalAgent } from './external-agent';
import { RecordedChatModel, type ExternalModel } from './recorded-chat';

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
  };
  completeInfo: { trials: number; temperature: number; reasks: number };
  gtbench: {
    matches: number;
    temperature: number;
    opponents: OpponentName[];
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
 */
export async function runExternalEvaluation(
  options: ExternalEvaluationOptions,
  stores: ExternalEvaluationStores,
): Promise<Record<string, number>> {
  const { evalId } = options;
  const append = (events: NewEvent[], expectedVersion: 'any' | 'no-stream' = 'any') =>
    stores.eventStore.append(evalId, events, { expectedVersion, producer: evaluationProducer() });
  await append(
    [
      {
        eventId: deterministicEventId(evalId, 'external.evaluation.requested'),
        type: 'external.evaluation.requested',
        payload: requestedPayload(options),
      },
    ],
    'no-stream',
  );

  const stop = new AbortController();
  const onOuterAbort = () => stop.abort(new Error('evaluation interrupted'));
  if (options.signal?.aborted) onOuterAbort();
  else options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const model = new RecordedChatModel(stores, evalId, options.model, stop.signal);
  const context: SuiteContext = { options, model, append, stop };
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
        eventId: deterministicEventId(evalId, 'run.failed', 'external-evaluation'),
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
    settings.items.map((row) => async () => {
      const itemId = row.itemId ?? `row-${row.index}`;
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

/** Each match records its moves under its own ids, so matches run concurrently into one stream. */
function emitterFor(context: SuiteContext, matchId: string) {
  let index = 0;
  return async (event: GameEvent) => {
    await context.append([
      {
        eventId: deterministicEventId(context.options.evalId, event.type, EXTERNAL_STAGE, matchId, index++),
        type: event.type,
        payload: event.payload,
      } as NewEvent,
    ]);
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

async function gtbench(context: SuiteContext): Promise<Record<string, number>> {
  const { options, model } = context;
  const settings = options.gtbench;
  const invalid = parseInvalidPolicy(
    settings.invalidPolicy === 'reask' ? `reask:${settings.reasks}` : settings.invalidPolicy,
  );
  const cells = GTBENCH_TEXT_GAMES.flatMap((textGame) =>
    settings.opponents.flatMap((name) => {
      const opponent = opponentFor(name, textGame.game.name);
      return opponent ? [{ textGame, name, opponent }] : [];
    }),
  );
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
      const agent = new ExternalAgent(
        model,
        { matchId: match.matchId, seed: match.seed, suite: 'gtbench' },
        { temperature: settings.temperature, maxTokens: options.maxTokens },
      );
      const result = await runGtbenchMatch(cell.textGame, agent, cell.opponent, {
        match,
        stage: EXTERNAL_STAGE,
        policy: invalid,
        emit: emitterFor(context, match.matchId),
      });
      options.onProgress?.('gtbench', ++done, matches.length);
      return result;
    }),
  );
  return gtbenchResults(
    cells.map((cell) => ({
      game: cell.textGame.game.name,
      opponent: cell.name,
      finished: finished.filter((_, i) => matches[i].cell === cell),
    })),
  );
}
