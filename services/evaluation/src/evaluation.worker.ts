import { hostname } from 'node:os';
import type { AnswerBaseline, PayloadOf, Producer } from '@recon/contracts';
import { storableText } from '@recon/contracts';
import { exactAnswerGrade, paperEvalGrade, tagProblem, type BaselineItem } from '@recon/econ';
import {
  deterministicEventId,
  isConnectionLoss,
  type BlobStore,
  type EventStore,
  type NewEvent,
  type RecordedEvent,
} from '@recon/eventlog';
import { decodingModes, readRunConfig, runHasEnded, type ExperimentConfig } from '@recon/experiment';
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
  generateOnPool,
  PolicyCache,
  policyComputePool,
  promptTokens,
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
import { opponentFor } from './opponents';
import { labelDecoding, matchNamespace } from './game-decoding';
import { PolicyAgent } from './policy-agent';

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
      (event) => this.handle(event),
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

  private async handle(event: RecordedEvent): Promise<void> {
    const runId = event.streamId;
    const ready = event.payload as PayloadOf<'policy.ready'>;
    if (await runHasEnded(this.options.eventStore, runId)) return;
    try {
      const { config, seed } = await readRunConfig(this.options.eventStore, runId);
      if (!config.evaluation.stages.includes(ready.stage)) return;
      const policy = await this.policies.get(ready.checkpointHash);
      const results: Record<string, number> = {};
      const baselines: AnswerBaseline[] = [];
      const resolved = await this.options.eventStore.readStream(runId, { types: ['dataset.resolved'] });
      const datasets = (resolved[0]?.payload as PayloadOf<'dataset.resolved'> | undefined)?.datasets ?? [];
      const evalSet = datasets.find((d) => d.role === 'eval');
      if (evalSet) {
        const heldOut = await this.heldOut(runId, ready.stage, config, policy, evalSet);
        Object.assign(results, heldOut.results);
        const train = datasets.find((d) => d.role === 'grpo');
        if (train) baselines.push(...(await this.baselines(heldOut.suite, train, heldOut.evaluated)));
      }
      if (config.evaluation.completeInformation)
        Object.assign(results, await this.completeInformation(runId, ready.stage, config, seed, policy));
      if (config.evaluation.gtbench)
        Object.assign(results, await this.gtbench(runId, ready.stage, config, seed, policy));
      await this.append(runId, [
        {
          eventId: deterministicEventId(runId, 'evaluation.completed', ready.stage),
          type: 'evaluation.completed',
          causationId: event.eventId,
          payload: { stage: ready.stage, checkpointHash: ready.checkpointHash, results, baselines },
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
    }
  }

  /** The answer baselines of a problem suite, counted on the run's training problems (the GRPO prompts). */
  private async baselines(
    suite: string,
    train: ResolvedDataset,
    evaluated: BaselineItem[],
  ): Promise<AnswerBaseline[]> {
    const rows = (await loadRegisteredDataset<ProblemRowLike>(this.options, train.versionHash)).rows;
    const items = rows.map((row) => ({ gold: row.gold, category: categoryOf(row) }));
    return problemSuiteBaselines(suite, { name: train.name, split: train.split, items }, evaluated);
  }

  private async heldOut(
    runId: string,
    stage: string,
    config: ExperimentConfig,
    policy: LoadedPolicy,
    evalSet: ResolvedDataset,
  ): Promise<{ suite: string; results: Record<string, number>; evaluated: BaselineItem[] }> {
    const rows = (await loadRegisteredDataset<ProblemRowLike>(this.options, evalSet.versionHash)).rows;
    const limit = Math.min(rows.length, config.evaluation.heldOut?.items ?? rows.length);
    const items = rows.slice(0, limit);
    const { model, tokenizer } = policy;
    const context = model.config.context;
    const maxTokens = Math.min(config.evaluation.maxNewTokens, context - 2);
    // Sampled on the compute workers, off this event loop (each completion depends only on its prompt and seed).
    const backend = activeBackend() ?? (await selectBackend('auto'));
    const pool = await policyComputePool(
      backend,
      resolveWorkerCount(config.policy.kind === 'builtin' ? config.policy.workers : undefined),
    );
    const pooled = checkpointPoolPolicy(
      await readCheckpointPolicy(this.options.blobStore, policy.checkpointHash),
    );
    // Every item is graded both ways; the headline (`correct`) of Recon-Eval is the paper's grader, of generated
    // items the exact one.
    const suite = evalSet.split === 'eval' ? 'recon-eval' : 'held-out';
    const graded: GradedItem[] = [];
    const evaluated: BaselineItem[] = [];
    const sample = (start: number) => {
      const sampled = generateOnPool(
        pool,
        pooled,
        items.slice(start, start + BATCH).map((row, i) => ({
          promptIds: promptTokens(tokenizer, row.messages, context, maxTokens).ids,
          seed: start + i,
        })),
        {
          temperature: config.evaluation.heldOut?.temperature ?? 0,
          maxTokens,
          stopTokenIds: [tokenizer.specialTokens.eos],
        },
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
    return { suite, results: problemSuiteResults(suite, graded), evaluated };
  }

  private emitter(runId: string, stage: string) {
    let index = 0;
    return async (event: GameEvent) => {
      await this.append(runId, [
        {
          eventId: deterministicEventId(runId, event.type, stage, event.payload.matchId, index++),
          type: event.type,
          payload: event.payload,
        } as NewEvent,
      ]);
    };
  }

  private async completeInformation(
    runId: string,
    stage: string,
    config: ExperimentConfig,
    seed: number,
    policy: LoadedPolicy,
  ) {
    const settings = config.evaluation.completeInformation!;
    const emit = this.emitter(runId, stage);
    const results: Record<string, number> = {};
    const modes = decodingModes(settings.decoding);
    let done = 0;
    for (const decoding of modes) {
      const games: Array<{ game: string; finished: GameFinishedPayload[] }> = [];
      for (const game of COMPLETE_INFO_GAMES) {
        const finished = await runCompleteInfoTrials(
          game,
          (matchSeed) =>
            new PolicyAgent(policy, matchSeed, {
              temperature: settings.temperature,
              maxTokens: settings.maxNewTokens ?? config.evaluation.maxNewTokens,
              decoding,
            }),
          {
            runId: matchNamespace(runId, stage, decoding),
            runSeed: seed,
            // Seeds from the stage, not the run id: `recon replay --verify` re-executes under another id.
            // Both decodings of a trial share its seed, so they differ only in how the replies were decoded.
            seedScope: stage,
            trials: settings.trials,
            stage,
            emit,
            policy: settings.reasks > 0 ? { kind: 'reask', times: settings.reasks } : { kind: 'forfeit' },
            ...(settings.decoding === undefined ? {} : { decoding }),
          },
        );
        games.push({ game: game.name, finished });
        this.options.onProgress?.(
          runId,
          stage,
          'complete-info',
          ++done,
          COMPLETE_INFO_GAMES.length * modes.length,
        );
      }
      Object.assign(results, labelDecoding(completeInfoResults(games), 'complete-info', decoding));
    }
    return results;
  }

  private async gtbench(
    runId: string,
    stage: string,
    config: ExperimentConfig,
    seed: number,
    policy: LoadedPolicy,
  ) {
    const settings = config.evaluation.gtbench!;
    const emit = this.emitter(runId, stage);
    const invalid = parseInvalidPolicy(
      settings.invalidPolicy === 'reask' ? `reask:${settings.reasks}` : settings.invalidPolicy,
    );
    const results: Record<string, number> = {};
    const modes = decodingModes(settings.decoding);
    const cells = GTBENCH_TEXT_GAMES.flatMap((textGame) =>
      settings.opponents.map((name) => ({ textGame, name })),
    );
    let done = 0;
    for (const decoding of modes) {
      const played: Array<{ game: string; opponent: string; finished: GameFinishedPayload[] }> = [];
      for (const { textGame, name } of cells) {
        const opponent = opponentFor(name, textGame.game.name);
        done++;
        if (!opponent) continue;
        const finished: GameFinishedPayload[] = [];
        for (const match of scheduleMatches(
          matchNamespace(runId, stage, decoding),
          seed,
          textGame.game.name,
          opponent.name,
          settings.matches,
          stage,
        )) {
          const agent = new PolicyAgent(policy, match.seed, {
            temperature: settings.temperature,
            maxTokens: settings.maxNewTokens ?? config.evaluation.maxNewTokens,
            decoding,
          });
          finished.push(
            await runGtbenchMatch(textGame, agent, opponent, {
              match,
              stage,
              policy: invalid,
              emit,
              ...(settings.decoding === undefined ? {} : { decoding }),
            }),
          );
        }
        played.push({ game: textGame.game.name, opponent: name, finished });
        this.options.onProgress?.(runId, stage, 'gtbench', done, cells.length * modes.length);
      }
      Object.assign(results, labelDecoding(gtbenchResults(played), 'gtbench', decoding));
    }
    return results;
  }
}
