import { storableText } from '@recon/contracts';
import type { ChatMessage } from '@recon/econ';
import type { BlobStore, EventStore, RecordedEvent } from '@recon/eventlog';
import { gtbenchOpponentName, type GtbenchOpponentSetting } from '@recon/experiment';
import {
  deriveSeed,
  type Agent,
  type GameDecoding,
  type MatchOpponent,
  type Observation,
  type ScheduledMatch,
} from '@recon/games';
import { traceTextOf } from '@recon/openai-chat';
import type { LoadedPolicy } from '@recon/policy-runtime';
import { RecordedChatModel, type ExternalModel, type Sampling } from './external/recorded-chat';
import { opponentFor } from './opponents';
import { PolicyAgent } from './policy-agent';

type Stage = 'untrained' | 'sft' | 'grpo';
const STAGE_ORDER: readonly Stage[] = ['untrained', 'sft', 'grpo'];

/** An opponent named in `evaluation.gtbench.opponents` cannot play: the message names it and says why. */
export class OpponentSettingError extends Error {
  constructor(
    /** Its place in the settings (`--opponents` lists them in the same order). */
    readonly index: number,
    readonly opponent: string,
    readonly reason: string,
  ) {
    super(`evaluation.gtbench.opponents[${index}] (${opponent}): ${reason}`);
    this.name = 'OpponentSettingError';
  }
}

/** The opponent of one game of the suite: its name there and, per match, the player. */
export interface GameOpponent {
  /** The name the match ids and `game.finished` carry (MCTS plays the prisoner's dilemma as tit-for-tat). */
  name: string;
  forMatch(match: ScheduledMatch): MatchOpponent;
}

/** One opponent of a suite, ready to play: `forGame` is null where it cannot play (MCTS-free IPD aside). */
export interface SuiteOpponent {
  /** The name results are keyed by. */
  name: string;
  forGame(game: string, decoding: GameDecoding | undefined): Promise<GameOpponent | null>;
}

/** What a stream already holds of an OpenAI-compatible model's requests: answers are reused, attempts continue. */
export interface RecordedRequests {
  attempts: Map<string, number>;
  /** The response blob of each request that was answered. */
  answered: Map<string, string>;
}

export function recordedRequests(events: readonly RecordedEvent[]): RecordedRequests {
  const recorded: RecordedRequests = { attempts: new Map(), answered: new Map() };
  for (const event of events) {
    if (event.type === 'external.request.sent') {
      const { requestId, attempt } = event.payload;
      recorded.attempts.set(requestId, Math.max(attempt, recorded.attempts.get(requestId) ?? 0));
    } else if (event.type === 'external.response.received') {
      const response = event.payload;
      if (response.outcome === 'ok' && response.responseBlobHash)
        recorded.answered.set(response.requestId, response.responseBlobHash);
    }
  }
  return recorded;
}

/**
 * A recorded chat model that answers a request its stream already holds an answer to from that record (a stage
 * evaluated again after the evaluation service restarted replays the same matches); anything else is asked
 * and recorded, its attempts numbered on from those recorded.
 */
export class ResumingChat {
  private readonly model: RecordedChatModel;

  constructor(
    private readonly stores: { eventStore: EventStore; blobStore: BlobStore },
    streamId: string,
    settings: ExternalModel,
    private readonly recorded: RecordedRequests,
    signal?: AbortSignal,
  ) {
    this.model = new RecordedChatModel(stores, streamId, settings, signal, recorded.attempts);
  }

  async complete(requestId: string, messages: ChatMessage[], sampling: Sampling): Promise<string> {
    const blob = this.recorded.answered.get(requestId);
    if (blob) {
      const text = traceTextOf(JSON.parse((await this.stores.blobStore.get(blob)).toString('utf8')));
      if (text !== null) return storableText(text);
    }
    return this.model.complete(requestId, 'gtbench', messages, sampling);
  }
}

/**
 * An OpenAI-compatible opponent in one match: each decision one recorded request, `<match>/opponent#<decision>`
 * (never the id of the evaluated model's own requests, `<match>#<decision>`), seeded from the match.
 */
class LlmOpponentAgent implements Agent {
  readonly name: string;
  private decisions = 0;

  constructor(
    private readonly chat: ResumingChat,
    private readonly match: ScheduledMatch,
    private readonly sampling: { temperature: number; maxTokens: number },
    model: string,
  ) {
    this.name = `openai:${model}`;
  }

  act(observation: Observation): Promise<string> {
    const decision = this.decisions++;
    return this.chat.complete(`${this.match.matchId}/opponent#${decision}`, observation.messages, {
      ...this.sampling,
      seed: deriveSeed(seedOf(this.match), decision),
    });
  }
}

export interface OpponentContext {
  stores: { eventStore: EventStore; blobStore: BlobStore };
  /** The stream the opponents' requests are recorded on (the run, or the external evaluation). */
  streamId: string;
  /** Sampling of a checkpoint opponent that names none: the suite's. */
  suite: { temperature: number; maxTokens: number };
  loadPolicy(checkpointHash: string): Promise<LoadedPolicy>;
  /** The evaluated run and stage, for checkpoint opponents of the same run; absent for an external model. */
  run?: {
    runId: string;
    stage: string;
    evaluatedStages: readonly string[];
    trainedStages: readonly string[];
  };
  recorded?: RecordedRequests;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

/** The stages of a run with a `policy.ready`, in the order they became ready, with their checkpoints. */
async function readyStages(eventStore: EventStore, runId: string) {
  const ready = await eventStore.readStream(runId, { types: ['policy.ready'] });
  const stages = new Map<string, { checkpointHash: string; position: number }>();
  for (const event of ready) {
    const payload = event.payload;
    stages.set(payload.stage, { checkpointHash: payload.checkpointHash, position: event.position });
  }
  return stages;
}

const seedOf = (match: ScheduledMatch) => deriveSeed(match.seed, 'opponent-agent');

function openAiOpponent(
  setting: Extract<GtbenchOpponentSetting, { kind: 'openai' }>,
  name: string,
  index: number,
  context: OpponentContext,
): SuiteOpponent {
  const url = new URL(setting.baseUrl);
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new OpponentSettingError(index, name, `baseUrl must be http or https, not ${url.protocol}`);
  const env = context.env ?? process.env;
  const apiKey = setting.apiKeyEnv ? env[setting.apiKeyEnv] : undefined;
  if (setting.apiKeyEnv && !apiKey)
    throw new OpponentSettingError(
      index,
      name,
      `the environment variable ${setting.apiKeyEnv} (apiKeyEnv) is not set where the evaluation runs`,
    );
  const baseUrl = setting.baseUrl.replace(/\/+$/, '');
  const chat = new ResumingChat(
    context.stores,
    context.streamId,
    {
      baseUrl,
      model: setting.model,
      apiKey,
      concurrency: setting.concurrency,
      retries: setting.retries,
      timeoutMs: setting.timeoutMs,
      minBackoffMs: setting.minBackoffMs,
    },
    context.recorded ?? { attempts: new Map(), answered: new Map() },
    context.signal,
  );
  const policy = `openai:${setting.model}@${baseUrl}`;
  const sampling = { temperature: setting.temperature, maxTokens: setting.maxTokens };
  return {
    name,
    forGame: () =>
      Promise.resolve({
        name,
        forMatch: (match) => ({
          name,
          policy,
          agent: new LlmOpponentAgent(chat, match, sampling, setting.model),
        }),
      }),
  };
}

function checkpointOpponent(
  name: string,
  checkpointHash: string,
  sampling: { temperature: number; maxTokens: number },
  context: OpponentContext,
): SuiteOpponent {
  return {
    name,
    forGame: async (_game, decoding) => {
      // Loaded per game, not held: the evaluated stage's policy and every opponent's need not fit together.
      const policy = await context.loadPolicy(checkpointHash);
      return {
        name,
        forMatch: (match) => ({
          name,
          policy: checkpointHash,
          ...(decoding === undefined ? {} : { decoding }),
          agent: new PolicyAgent(policy, seedOf(match), { ...sampling, ...(decoding ? { decoding } : {}) }),
        }),
      };
    },
  };
}

/**
 * The opponents a suite plays, in the order the settings list them. Built-in engines by name; an
 * OpenAI-compatible model, its requests recorded on the context's stream; a checkpoint of another run, by
 * that run's `policy.ready`. A checkpoint of the evaluated run's own stage T meets every other evaluated stage
 * once, the later of the two as the evaluated agent: a stage plays T if T was ready before it, and the stage
 * T itself plays every evaluated stage ready before it. A setting that cannot play throws an
 * OpponentSettingError naming it.
 */
export async function suiteOpponents(
  settings: readonly GtbenchOpponentSetting[],
  context: OpponentContext,
): Promise<SuiteOpponent[]> {
  const opponents: SuiteOpponent[] = [];
  const own = context.run;
  const ownReady = own ? await readyStages(context.stores.eventStore, own.runId) : new Map();
  const current = own ? ownReady.get(own.stage) : undefined;
  const readyBefore = (stage: string) => {
    const ready = ownReady.get(stage);
    return ready !== undefined && current !== undefined && ready.position < current.position
      ? ready
      : undefined;
  };
  for (const [index, setting] of settings.entries()) {
    const name = gtbenchOpponentName(setting);
    if (typeof setting === 'string') {
      opponents.push({
        name,
        forGame: (game) => {
          const opponent = opponentFor(setting, game);
          return Promise.resolve(opponent && { name: opponent.name, forMatch: () => opponent });
        },
      });
      continue;
    }
    if (setting.kind === 'openai') {
      opponents.push(openAiOpponent(setting, name, index, context));
      continue;
    }
    const sampling = {
      temperature: setting.temperature ?? context.suite.temperature,
      maxTokens: setting.maxNewTokens ?? context.suite.maxTokens,
    };
    if (setting.run === undefined || setting.run === own?.runId) {
      if (!own)
        throw new OpponentSettingError(
          index,
          name,
          'an external model has no stages of its own: name the run whose checkpoint it plays (run: <run id>)',
        );
      if (!own.trainedStages.includes(setting.stage))
        throw new OpponentSettingError(
          index,
          name,
          `this run trains no ${setting.stage} stage (it trains ${own.trainedStages.join(', ')})`,
        );
      const ready = readyBefore(setting.stage);
      if (ready) opponents.push(checkpointOpponent(name, ready.checkpointHash, sampling, context));
      if (setting.stage === own.stage)
        for (const stage of STAGE_ORDER) {
          const earlier = readyBefore(stage);
          const implicit = `checkpoint:${stage}`;
          if (
            !earlier ||
            !own.evaluatedStages.includes(stage) ||
            settings.some((s) => sameRunStage(s, stage, own.runId)) ||
            opponents.some((o) => o.name === implicit)
          )
            continue;
          opponents.push(checkpointOpponent(implicit, earlier.checkpointHash, sampling, context));
        }
      continue;
    }
    const other = await readyStages(context.stores.eventStore, setting.run);
    const ready = other.get(setting.stage);
    if (!ready)
      throw new OpponentSettingError(
        index,
        name,
        (await context.stores.eventStore.streamVersion(setting.run)) === 0
          ? `no run ${setting.run} in this home`
          : `run ${setting.run} has no policy ready at stage ${setting.stage} (ready: ${[...other.keys()].join(', ') || 'none'})`,
      );
    if (!(await context.stores.blobStore.has(ready.checkpointHash)))
      throw new OpponentSettingError(
        index,
        name,
        `run ${setting.run} ${setting.stage}: checkpoint blob ${ready.checkpointHash} is not in the blob store`,
      );
    opponents.push(checkpointOpponent(name, ready.checkpointHash, sampling, context));
  }
  return opponents;
}

const sameRunStage = (setting: GtbenchOpponentSetting, stage: string, runId: string) =>
  typeof setting !== 'string' &&
  setting.kind === 'checkpoint' &&
  (setting.run === undefined || setting.run === runId) &&
  setting.stage === stage;
