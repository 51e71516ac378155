import { hostname } from 'node:os';
import type { AnswerBaselineV3, EvaluationSample, PayloadOf, Producer } from '@recon/contracts';
import { storableText } from '@recon/contracts';
import {
  exactAnswerGrade,
  paperEvalGrade,
  stratifiedSample,
  tagProblem,
  type BaselineItem,
} from '@recon/econ';
import {
  deterministicEventId,
  isConnectionLoss,
  type BlobStore,
  type EventStore,
  type NewEvent,
  type RecordedEventOf,
} from '@recon/eventlog';
import {
  decodingModes,
  ownedStreamsHandler,
  runHasEnded,
  type ExperimentConfig,
  type RunRequest,
} from '@recon/experiment';
import {
  COMPLETE_INFO_GAMES,
  deriveSeed,
  GTBENCH_TEXT_GAMES,
  runCompleteInfoTrials,
  runGtbenchMatch,
  scheduleMatches,
  type GameEvent,
  type GameFinishedPayload,
  parseInvalidPolicy,
} from '@recon/games';
import { loadRegisteredDataset } from '@recon/persistence';
import { activeBackend, selectBackend } from '@recon/policy';
import {
  checkpointPoolPolicy,
  PolicyCache,
  policyComputePool,
  readCheckpointPolicy,
  resolveWorkerCount,
  type LoadedPolicy,
} from '@recon/policy-runtime';
import type { Consumer, EventBus } from '@recon/transport';
import {
  completeInfoResults,
  gtbenchResults,
  problemSuiteBaselines,
  problemSuiteResults,
  type GradedItem,
} from './suite-results';
import { recordedRequests, suiteOpponents, type SuiteOpponent } from './gtbench-opponents';
import { labelDecoding, matchNamespace } from './game-decoding';
import { inLanes } from './lanes';
import { PolicyAgent } from './policy-agent';
import { poolSampler } from './policy-sampler';
import { poolStageSampler, pretrainedStageSampler, type StageSampler } from './stage-sampler';

interface ProblemRowLike {
  messages: Array<{ role: 'system' | 'user' | 'assistant'; content: string }>;
  gold: string;
  category?: string;
  itemId?: string;
  index: number;
}

type ResolvedDataset = PayloadOf<'dataset.resolved'>['datasets'][number];

const promptText = (row: ProblemRowLike) => row.messages.map((m) => m.content).join('\n');
// Imported Recon rows carry no category: the tagger assigns one of the paper's 15 from the prompt.
const categoryOf = (row: ProblemRowLike) => row.category ?? tagProblem(promptText(row));

export function evaluationProducer(): Producer {
  return { service: 'evaluation', version: '0.1.0', instance: `${hostname()}:${process.pid}` };
}

const BATCH = 32;
/** Game events recorded per append when a suite records a game it played in a lane. */
const GAME_EVENTS_PER_APPEND = 200;

/**
 * The evaluation service: on `policy.ready` it evaluates that stage of the policy on the run's suites
 * (held-out problems, complete-information self-play, GTBench matches), recording every item, move and
 * match as events, then `evaluation.completed` with the headline numbers.
 */
export class EvaluationWorker {
  private consumer: Consumer | null = null;
  private readonly policies: PolicyCache;

  constructor(
    private readonly options: {
      eventStore: EventStore;
      blobStore: BlobStore;
      bus: EventBus;
      onProgress?: (runId: string, stage: string, suite: string, done: number, total: number) => void;
    },
  ) {
    this.policies = new PolicyCache(options.blobStore, 1);
  }

  async start(): Promise<void> {
    this.consumer = await this.options.bus.subscribe(
      { group: 'evaluation', types: ['policy.ready'] },
      ownedStreamsHandler(
        { eventStore: this.options.eventStore, group: 'evaluation', producer: evaluationProducer() },
        { run: (event, run) => this.handle(event, run) },
      ),
    );
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
    this.policies.clear();
  }

  private append(runId: string, events: NewEvent[]) {
    return this.options.eventStore.append(runId, events, {
      expectedVersion: 'any',
      producer: evaluationProducer(),
    });
  }

  private async handle(event: RecordedEventOf<'policy.ready'>, run: RunRequest): Promise<void> {
    const runId = event.streamId;
    const ready = event.payload;
    if (await runHasEnded(this.options.eventStore, runId)) return;
    // Checkpoint opponents are loaded beside the evaluated policy, and dropped when the stage is evaluated.
    const opponentPolicies = new PolicyCache(this.options.blobStore, 2);
    let sampler: StageSampler | undefined;
    try {
      const { config, seed } = run;
      // Checked at every ready stage: an opponent that cannot play fails the run before training goes on.
      const opponents = config.evaluation.gtbench
        ? await this.gtbenchOpponents(runId, ready.stage, config, opponentPolicies)
        : [];
      if (!config.evaluation.stages.includes(ready.stage)) return;
      // A pretrained policy is evaluated on held-out problems in this process (games: built-in policies only).
      const policy =
        config.policy.kind === 'pretrained' ? null : await this.policies.get(ready.checkpointHash);
      // Built when a held-out suite needs it.
      const stageSampler = async () =>
        (sampler ??= policy
          ? await poolStageSampler(this.options.blobStore, await this.computePool(config), policy)
          : await pretrainedStageSampler(this.options, runId, ready.checkpointHash));
      const builtin = () => {
        if (!policy) throw new Error('game suites evaluate built-in policies only');
        return policy;
      };
      const results: Record<string, number> = {};
      const baselines: AnswerBaselineV3[] = [];
      const resolved = await this.options.eventStore.readStream(runId, { types: ['dataset.resolved'] });
      const datasets = resolved.at(0)?.payload.datasets ?? [];
      const samples: EvaluationSample[] = [];
      // Each eval set is its own suite (generated held-out problems, Recon-Eval), its rows labelled by suite.
      for (const evalSet of datasets.filter((d) => d.role === 'eval')) {
        const heldOut = await this.heldOut(runId, ready.stage, config, seed, await stageSampler(), evalSet);
        Object.assign(results, heldOut.results);
        samples.push(heldOut.sample);
        const train = datasets.find((d) => d.role === 'grpo');
        if (train) baselines.push(...(await this.baselines(heldOut.suite, train, heldOut.evaluated)));
      }
      if (config.evaluation.completeInformation)
        Object.assign(results, await this.completeInformation(runId, ready.stage, config, seed, builtin()));
      if (config.evaluation.gtbench)
        Object.assign(results, await this.gtbench(runId, ready.stage, config, seed, builtin(), opponents));
      await this.append(runId, [
        {
          eventId: deterministicEventId(runId, 'evaluation.completed', ready.stage),
          type: 'evaluation.completed',
          causationId: event.eventId,
          payload: {
            stage: ready.stage,
            checkpointHash: ready.checkpointHash,
            results,
            baselines,
            ...(samples.length > 0 ? { samples } : {}),
          },
        },
      ]);
    } catch (error) {
      // PostgreSQL away for longer than the retries: not the evaluation's failure; the service restarts.
      if (isConnectionLoss(error)) throw error;
      await this.append(runId, [
        {
          eventId: deterministicEventId(runId, 'run.failed', 'evaluation', ready.stage),
          type: 'run.failed',
          payload: { phase: `evaluation:${ready.stage}`, error: (error as Error).message },
        },
      ]);
    } finally {
      opponentPolicies.clear();
      sampler?.dispose();
    }
  }

  /** The GTBench opponents of a stage (evaluation.gtbench.opponents); requests of LLM opponents go on the run. */
  private async gtbenchOpponents(
    runId: string,
    stage: string,
    config: ExperimentConfig,
    policies: PolicyCache,
  ): Promise<SuiteOpponent[]> {
    const settings = config.evaluation.gtbench!;
    const requests = await this.options.eventStore.readStream(runId, {
      types: ['external.request.sent', 'external.response.received'],
    });
    return suiteOpponents(settings.opponents, {
      stores: this.options,
      streamId: runId,
      suite: {
        temperature: settings.temperature,
        maxTokens: settings.maxNewTokens ?? config.evaluation.maxNewTokens,
      },
      loadPolicy: (hash) => policies.get(hash),
      run: {
        runId,
        stage,
        evaluatedStages: config.evaluation.stages,
        trainedStages: ['untrained', ...(config.sft ? ['sft'] : []), ...(config.grpo ? ['grpo'] : [])],
      },
      recorded: recordedRequests(requests),
    });
  }

  /** The answer baselines of a problem suite, counted on the run's training problems (the GRPO prompts). */
  private async baselines(
    suite: string,
    train: ResolvedDataset,
    evaluated: BaselineItem[],
  ): Promise<AnswerBaselineV3[]> {
    const rows = (await loadRegisteredDataset<ProblemRowLike>(this.options, train.versionHash)).rows;
    const items = rows.map((row) => ({ gold: row.gold, category: categoryOf(row) }));
    return problemSuiteBaselines(suite, { name: train.name, split: train.split, items }, evaluated);
  }

  private async heldOut(
    runId: string,
    stage: string,
    config: ExperimentConfig,
    seed: number,
    sampler: StageSampler,
    evalSet: ResolvedDataset,
  ): Promise<{
    suite: string;
    results: Record<string, number>;
    evaluated: BaselineItem[];
    sample: EvaluationSample;
  }> {
    const rows = (await loadRegisteredDataset<ProblemRowLike>(this.options, evalSet.versionHash)).rows;
    // Every item is graded both ways; the headline (`correct`) of Recon-Eval is the paper's grader, of generated
    // items the exact one.
    const suite = evalSet.split === 'eval' ? 'recon-eval' : 'held-out';
    const { heldOut, reconEval } = config.evaluation;
    const size = suite === 'recon-eval' ? (reconEval?.items ?? heldOut?.items) : heldOut?.items;
    // A subset is a seeded draw stratified by category (files are often stored in category blocks).
    const drawn = stratifiedSample(rows, size, deriveSeed(seed, 'eval-sample', suite), categoryOf);
    const items = drawn.rows;
    const drawnSample: EvaluationSample = {
      suite,
      dataset: { name: evalSet.name, versionHash: evalSet.versionHash },
      ...drawn.record,
    };
    const temperature =
      (suite === 'recon-eval' ? reconEval?.temperature : undefined) ?? heldOut?.temperature ?? 0;
    const maxTokens = Math.min(config.evaluation.maxNewTokens, sampler.context - 2);
    const graded: GradedItem[] = [];
    const evaluated: BaselineItem[] = [];
    const sample = (start: number) => {
      const sampled = sampler.sample(
        items.slice(start, start + BATCH).map((row, i) => ({
          promptIds: sampler.promptIds(row.messages, maxTokens),
          seed: start + i,
        })),
        { temperature, maxTokens, stopTokenIds: [sampler.eosId] },
      );
      sampled.catch(() => undefined); // awaited below; a failure while recording must not go unhandled
      return sampled;
    };
    // The next batch is queued behind this one: a worker that finishes its part of a batch early starts on
    // the next while this one is graded and recorded.
    let current = items.length > 0 ? sample(0) : null;
    for (let start = 0; start < items.length; start += BATCH) {
      const batch = items.slice(start, start + BATCH);
      const following = start + BATCH < items.length ? sample(start + BATCH) : null;
      const completions = await current!;
      current = following;
      const events: NewEvent[] = batch.map((row, i) => {
        const exact = exactAnswerGrade(completions[i].text, row.gold);
        const paper = paperEvalGrade(completions[i].text, row.gold);
        const result = suite === 'recon-eval' ? paper : exact;
        const category = categoryOf(row);
        const verdicts = { exact: exact.correct, paper: paper.correct };
        graded.push({ category, gold: row.gold, correct: result.correct, verdicts });
        evaluated.push({ category, gold: row.gold, prompt: promptText(row) });
        const itemId = row.itemId ?? `row-${row.index}`;
        return {
          eventId: deterministicEventId(runId, 'evaluation.item.scored', stage, suite, itemId),
          type: 'evaluation.item.scored',
          payload: {
            suite,
            stage,
            itemId,
            category,
            completion: storableText(completions[i].text),
            parsedAnswer:
              result.parsed === null || result.parsed === undefined ? null : storableText(result.parsed),
            gold: row.gold,
            correct: result.correct,
            verdicts,
          },
        };
      });
      await this.append(runId, events);
      this.options.onProgress?.(runId, stage, suite, Math.min(start + BATCH, items.length), items.length);
    }
    return { suite, results: problemSuiteResults(suite, graded), evaluated, sample: drawnSample };
  }

  private async computePool(config: ExperimentConfig) {
    const backend = activeBackend() ?? (await selectBackend('auto'));
    return policyComputePool(
      backend,
      resolveWorkerCount(config.policy.kind === 'builtin' ? config.policy.workers : undefined),
    );
  }

  /**
   * Records a suite's game events on the run: ids numbered in the order recorded, so a suite whose games run
   * in lanes records each game's buffered events in game order (the order one lane would give them).
   */
  private gameRecorder(runId: string, stage: string) {
    let index = 0;
    return async (events: readonly GameEvent[]) => {
      for (let start = 0; start < events.length; start += GAME_EVENTS_PER_APPEND)
        await this.append(
          runId,
          events.slice(start, start + GAME_EVENTS_PER_APPEND).map(
            (event) =>
              ({
                eventId: deterministicEventId(runId, event.type, stage, event.payload.matchId, index++),
                type: event.type,
                payload: event.payload,
              }) as NewEvent,
          ),
        );
    };
  }

  /**
   * Where a stage's game decisions are sampled: on the compute workers (one game in flight per worker keeps
   * every core busy and the event loop free), `lanes` games at a time.
   */
  private async gameSampling(config: ExperimentConfig, policy: LoadedPolicy) {
    const backend = activeBackend() ?? (await selectBackend('auto'));
    const pool = await policyComputePool(
      backend,
      resolveWorkerCount(config.policy.kind === 'builtin' ? config.policy.workers : undefined),
    );
    const pooled = checkpointPoolPolicy(await readCheckpointPolicy(this.options.blobStore, policy.checkpointHash));
    return { lanes: pool.size, samplerFor: (lane: number) => poolSampler(pool, pooled, lane) };
  }

  private async completeInformation(
    runId: string,
    stage: string,
    config: ExperimentConfig,
    seed: number,
    policy: LoadedPolicy,
  ) {
    const settings = config.evaluation.completeInformation!;
    const record = this.gameRecorder(runId, stage);
    const { lanes, samplerFor } = await this.gameSampling(config, policy);
    const results: Record<string, number> = {};
    const modes = decodingModes(settings.decoding);
    let done = 0;
    for (const decoding of modes) {
      const games = await inLanes(
        COMPLETE_INFO_GAMES,
        lanes,
        async (game, lane) => {
          const events: GameEvent[] = [];
          const finished = await runCompleteInfoTrials(
            game,
            (matchSeed) =>
              new PolicyAgent(
                policy,
                matchSeed,
                {
                  temperature: settings.temperature,
                  maxTokens: settings.maxNewTokens ?? config.evaluation.maxNewTokens,
                  decoding,
                },
                samplerFor(lane),
              ),
            {
              runId: matchNamespace(runId, stage, decoding),
              runSeed: seed,
              // Seeds from the stage, not the run id: `recon replay --verify` re-executes under another id.
              // Both decodings of a trial share its seed, so they differ only in how the replies were decoded.
              seedScope: stage,
              trials: settings.trials,
              stage,
              emit: async (event) => void events.push(event),
              policy: settings.reasks > 0 ? { kind: 'reask', times: settings.reasks } : { kind: 'forfeit' },
              ...(settings.decoding === undefined ? {} : { decoding }),
            },
          );
          return { game: game.name, finished, events };
        },
        async ({ events }) => {
          await record(events);
          this.options.onProgress?.(
            runId,
            stage,
            'complete-info',
            ++done,
            COMPLETE_INFO_GAMES.length * modes.length,
          );
        },
      );
      Object.assign(
        results,
        labelDecoding(
          completeInfoResults(games.map(({ game, finished }) => ({ game, finished }))),
          'complete-info',
          decoding,
        ),
      );
    }
    return results;
  }

  private async gtbench(
    runId: string,
    stage: string,
    config: ExperimentConfig,
    seed: number,
    policy: LoadedPolicy,
    opponents: readonly SuiteOpponent[],
  ) {
    const settings = config.evaluation.gtbench!;
    const invalid = parseInvalidPolicy(
      settings.invalidPolicy === 'reask' ? `reask:${settings.reasks}` : settings.invalidPolicy,
    );
    const results: Record<string, number> = {};
    const modes = decodingModes(settings.decoding);
    const games = GTBENCH_TEXT_GAMES.filter(
      (t) => !settings.games || (settings.games as readonly string[]).includes(t.game.name),
    );
    const cells = games.flatMap((textGame) =>
      opponents.map((suiteOpponent) => ({ textGame, suiteOpponent })),
    );
    // Engines play in this thread and the policy on the workers, so cells run in lanes; an LLM or checkpoint
    // opponent records its own requests as it plays, so its suite keeps one lane (their order is the record's).
    const engineOpponents = settings.opponents.every((opponent) => typeof opponent === 'string');
    const sampling = await this.gameSampling(config, policy);
    const lanes = engineOpponents ? sampling.lanes : 1;
    const record = this.gameRecorder(runId, stage);
    let done = 0;
    for (const decoding of modes) {
      const played = await inLanes(
        cells,
        lanes,
        async ({ textGame, suiteOpponent }, lane) => {
          const events: GameEvent[] = [];
          const opponent = await suiteOpponent.forGame(
            textGame.game.name,
            settings.decoding === undefined ? undefined : decoding,
          );
          if (!opponent) return { events, cell: null };
          const emit = engineOpponents
            ? async (event: GameEvent) => void events.push(event)
            : (event: GameEvent) => record([event]);
          const finished: GameFinishedPayload[] = [];
          for (const match of scheduleMatches(
            matchNamespace(runId, stage, decoding),
            seed,
            textGame.game.name,
            opponent.name,
            settings.matches,
            stage,
          )) {
            const agent = new PolicyAgent(
              policy,
              match.seed,
              {
                temperature: settings.temperature,
                maxTokens: settings.maxNewTokens ?? config.evaluation.maxNewTokens,
                decoding,
              },
              sampling.samplerFor(lane),
            );
            finished.push(
              await runGtbenchMatch(textGame, agent, opponent.forMatch(match), {
                match,
                stage,
                policy: invalid,
                emit,
                ...(settings.decoding === undefined ? {} : { decoding }),
              }),
            );
          }
          return { events, cell: { game: textGame.game.name, opponent: suiteOpponent.name, finished } };
        },
        async ({ events }) => {
          await record(events);
          this.options.onProgress?.(runId, stage, 'gtbench', ++done, cells.length * modes.length);
        },
      );
      Object.assign(
        results,
        labelDecoding(
          gtbenchResults(played.flatMap(({ cell }) => (cell ? [cell] : []))),
          'gtbench',
          decoding,
        ),
      );
    }
    return results;
  }
}
