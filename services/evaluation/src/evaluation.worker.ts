import { hostname } from 'node:os';
import type { AnswerBaselineV3, Producer } from '@recon/contracts';
import type { BaselineItem } from '@recon/econ';
import {
  isConnectionLoss,
  type BlobStore,
  type EventStore,
  type NewEvent,
  type RecordedEventOf,
} from '@recon/eventlog';
import {
  decodingModes,
  ownedStreamsHandler,
  type ExperimentConfig,
  type RunRequest,
} from '@recon/experiment';
import {
  COMPLETE_INFO_GAMES,
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
  categoryOf,
  decide,
  drawProblemSuite,
  EVALUATION_STATE_TYPES,
  evolve,
  gameEvent,
  initialEvaluationState,
  itemTokenBudget,
  scoreItem,
  type EvalRow,
  type EvaluationDecision,
  type EvaluationState,
  type GtbenchSuitePlan,
  type PolicyReady,
  type ProblemSuitePlan,
  type Stage,
  type StagePlan,
  type SuiteOutcome,
} from './evaluation-process';
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
    const ready: PolicyReady = { eventId: event.eventId, payload: event.payload };
    const recorded = await this.options.eventStore.readStream(runId, { types: [...EVALUATION_STATE_TYPES] });
    const state = recorded.reduce(
      evolve,
      initialEvaluationState({ runId, config: run.config, seed: run.seed }),
    );
    const decisions = decide({ type: 'evaluate-stage', ready }, state);
    if (decisions.length === 0) return;
    // Checkpoint opponents are loaded beside the evaluated policy, and dropped when the stage is evaluated.
    const opponentPolicies = new PolicyCache(this.options.blobStore, 2);
    let opponents: SuiteOpponent[] = [];
    try {
      for (const decision of decisions) {
        if (decision.type === 'check-opponents')
          opponents = await this.gtbenchOpponents(runId, ready.payload.stage, run.config, opponentPolicies);
        else if (decision.type === 'evaluate') {
          const outcomes = await this.evaluate(state, decision.plan, opponents);
          await this.perform(runId, decide({ type: 'complete-stage', ready, outcomes }, state));
        }
      }
    } catch (error) {
      const connectionLost = isConnectionLoss(error);
      await this.perform(runId, decide({ type: 'fail-stage', ready, error, connectionLost }, state), error);
    } finally {
      opponentPolicies.clear();
    }
  }

  /** Carries out what the process decided about a stage's result or failure. */
  private async perform(runId: string, decisions: EvaluationDecision[], error?: unknown): Promise<void> {
    for (const decision of decisions) {
      if (decision.type === 'append') await this.append(runId, decision.events);
      else if (decision.type === 'crash') throw error;
    }
  }

  /** Runs a stage's suites in the plan's order; what each found, for the stage's result. */
  private async evaluate(
    state: EvaluationState,
    plan: StagePlan,
    opponents: readonly SuiteOpponent[],
  ): Promise<SuiteOutcome[]> {
    const { runId, config, seed } = state.run;
    const { stage } = plan;
    const policy = plan.policy === 'pretrained' ? null : await this.policies.get(plan.checkpointHash);
    // Built when a problem suite needs it.
    let sampler: StageSampler | undefined;
    const stageSampler = async () =>
      (sampler ??= policy
        ? await poolStageSampler(this.options.blobStore, await this.computePool(config), policy)
        : await pretrainedStageSampler(this.options, runId, plan.checkpointHash));
    const builtin = () => {
      if (!policy) throw new Error('the plan runs a game suite without a built-in policy');
      return policy;
    };
    const outcomes: SuiteOutcome[] = [];
    try {
      for (const suite of plan.suites) {
        switch (suite.kind) {
          case 'problems':
            outcomes.push(await this.problemSuite(runId, stage, suite, await stageSampler()));
            break;
          case 'complete-information':
            outcomes.push({ results: await this.completeInformation(runId, stage, config, seed, builtin()) });
            break;
          case 'gtbench':
            outcomes.push({
              results: await this.gtbench(runId, stage, config, seed, builtin(), opponents, suite.lanes),
            });
            break;
          case 'refused':
            throw new Error(suite.error);
        }
      }
    } finally {
      sampler?.dispose();
    }
    return outcomes;
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
    train: ProblemSuitePlan['dataset'],
    evaluated: BaselineItem[],
  ): Promise<AnswerBaselineV3[]> {
    const rows = (await loadRegisteredDataset<EvalRow>(this.options, train.versionHash)).rows;
    const items = rows.map((row) => ({ gold: row.gold, category: categoryOf(row) }));
    return problemSuiteBaselines(suite, { name: train.name, split: train.split, items }, evaluated);
  }

  private async problemSuite(
    runId: string,
    stage: Stage,
    plan: ProblemSuitePlan,
    sampler: StageSampler,
  ): Promise<SuiteOutcome> {
    const rows = (await loadRegisteredDataset<EvalRow>(this.options, plan.dataset.versionHash)).rows;
    const { items, sample: drawn } = drawProblemSuite(plan, rows);
    const { temperature } = plan;
    const maxTokens = itemTokenBudget(plan, sampler.context);
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
        const scored = scoreItem(runId, stage, plan.suite, row, completions[i].text);
        graded.push(scored.graded);
        evaluated.push(scored.evaluated);
        return scored.event;
      });
      await this.append(runId, events);
      this.options.onProgress?.(
        runId,
        stage,
        plan.suite,
        Math.min(start + BATCH, items.length),
        items.length,
      );
    }
    return {
      results: problemSuiteResults(plan.suite, graded),
      ...(plan.baselinesOn
        ? { baselines: await this.baselines(plan.suite, plan.baselinesOn, evaluated) }
        : {}),
      sample: drawn,
    };
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
  private gameRecorder(runId: string, stage: Stage) {
    let index = 0;
    return async (events: readonly GameEvent[]) => {
      for (let start = 0; start < events.length; start += GAME_EVENTS_PER_APPEND)
        await this.append(
          runId,
          events
            .slice(start, start + GAME_EVENTS_PER_APPEND)
            .map((event) => gameEvent(runId, stage, event, index++)),
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
    const pooled = checkpointPoolPolicy(
      await readCheckpointPolicy(this.options.blobStore, policy.checkpointHash),
    );
    return { lanes: pool.size, samplerFor: (lane: number) => poolSampler(pool, pooled, lane) };
  }

  private async completeInformation(
    runId: string,
    stage: Stage,
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
    stage: Stage,
    config: ExperimentConfig,
    seed: number,
    policy: LoadedPolicy,
    opponents: readonly SuiteOpponent[],
    lanePlan: GtbenchSuitePlan['lanes'],
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
    // Engines play in this thread and the policy on the workers, so cells run in lanes, their events buffered;
    // in one lane each event is recorded as it is played (beside the requests an opponent records).
    const inParallel = lanePlan === 'workers';
    const sampling = await this.gameSampling(config, policy);
    const lanes = inParallel ? sampling.lanes : 1;
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
          const emit = inParallel
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
