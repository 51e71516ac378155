import {
  storableText,
  type AnswerBaselineV3,
  type EvaluationSample,
  type EventType,
  type PayloadOf,
} from '@recon/contracts';
import {
  exactAnswerGrade,
  paperEvalGrade,
  stratifiedSample,
  tagProblem,
  type BaselineItem,
} from '@recon/econ';
import { deterministicEventId, type NewEvent } from '@recon/eventlog';
import type { ExperimentConfig } from '@recon/experiment';
import { deriveSeed, type GameEvent } from '@recon/games';
import type { GradedItem } from './suite-results';

/**
 * The decisions of the evaluation process, apart from their effects: whether a delivered `policy.ready` is
 * evaluated, which suites a stage runs and how, which events record an item, a game and the stage's result,
 * and what a failure does. Pure functions of the run's events and config (no I/O, no clock, no model): the
 * worker (evaluation.worker.ts) loads policies and datasets, samples, plays, and appends what these return.
 *
 * Each stage is evaluated on its own `policy.ready`, in the order training records them; nothing waits for
 * another stage, and whether the run is complete is the api's run supervisor's decision. A redelivered
 * `policy.ready` (a restart mid-stage, a rebalance) evaluates the stage again from its first item: every
 * event's id is derived from what it is and its payload from the config and seed, so the events already
 * recorded are recorded again as they are, and nothing twice.
 */

/** A run-stream event as the process reads it: its type narrows its payload. */
export type RunEvent = { [K in EventType]: { type: K; payload: PayloadOf<K> } }[EventType];

export type ResolvedDataset = PayloadOf<'dataset.resolved'>['datasets'][number];
export type Stage = PayloadOf<'policy.ready'>['stage'];

/** The run's events the state is folded from (what the worker reads before deciding). */
export const EVALUATION_STATE_TYPES = ['dataset.resolved', 'run.completed', 'run.failed'] as const;

/** The run as its request states it: what evaluation plans from. */
export interface EvaluatedRun {
  runId: string;
  config: ExperimentConfig;
  seed: number;
}

/** Where a run stands for its evaluation. */
export interface EvaluationState {
  run: EvaluatedRun;
  /** `run.completed` or `run.failed` is recorded: the run is left alone. */
  ended: boolean;
  /** The datasets the run's first `dataset.resolved` pinned (null before it). */
  datasets: readonly ResolvedDataset[] | null;
}

export function initialEvaluationState(run: EvaluatedRun): EvaluationState {
  return { run, ended: false, datasets: null };
}

export function evolve(state: EvaluationState, event: RunEvent): EvaluationState {
  switch (event.type) {
    case 'run.completed':
    case 'run.failed':
      return { ...state, ended: true };
    case 'dataset.resolved':
      return state.datasets ? state : { ...state, datasets: event.payload.datasets };
    default:
      return state;
  }
}

/** The `policy.ready` that asks for a stage's evaluation. */
export interface PolicyReady {
  eventId: string;
  payload: PayloadOf<'policy.ready'>;
}

/** One suite of a stage, in the order the stage runs them. */
export type SuitePlan =
  | ProblemSuitePlan
  | { kind: 'complete-information' }
  | GtbenchSuitePlan
  /** A suite this stage's policy cannot play: the stage fails here, after the suites before it. */
  | { kind: 'refused'; error: string };

/** An eval set's problems: `held-out` (generated) or `recon-eval` (the paper's), each its own suite. */
export interface ProblemSuitePlan {
  kind: 'problems';
  suite: 'held-out' | 'recon-eval';
  dataset: ResolvedDataset;
  /** Rows drawn, stratified by category (undefined: every row). */
  items: number | undefined;
  drawSeed: number;
  temperature: number;
  /** Completion budget per item, before the policy's context caps it (itemTokenBudget). */
  maxNewTokens: number;
  /** The run's training problems, on which its answer baselines are counted (none without a GRPO set). */
  baselinesOn: ResolvedDataset | undefined;
}

/**
 * GTBench's matches. `workers`: the cells play in parallel on the compute workers (engine opponents), each
 * cell's events buffered and recorded in cell order; `one`: one cell at a time, each event recorded as played,
 * because an LLM or checkpoint opponent records its requests as it plays and their order is the record's.
 */
export interface GtbenchSuitePlan {
  kind: 'gtbench';
  lanes: 'workers' | 'one';
}

export interface StagePlan {
  stage: Stage;
  checkpointHash: string;
  /** `checkpoint`: a built-in policy sampled on the compute pool; `pretrained`: sampled in this process. */
  policy: 'checkpoint' | 'pretrained';
  suites: SuitePlan[];
}

/** What a suite found, as the stage's result records it. */
export interface SuiteOutcome {
  results: Record<string, number>;
  /** A problem suite's answer baselines (when the run has training problems). */
  baselines?: AnswerBaselineV3[];
  /** Which rows a problem suite drew. */
  sample?: EvaluationSample;
}

export type EvaluationCommand =
  /** A stage's `policy.ready`, delivered by the bus (possibly again). */
  | { type: 'evaluate-stage'; ready: PolicyReady }
  /** Every suite of the plan ran: record the stage's result. */
  | { type: 'complete-stage'; ready: PolicyReady; outcomes: readonly SuiteOutcome[] }
  /** Evaluating the stage threw. */
  | { type: 'fail-stage'; ready: PolicyReady; error: unknown; connectionLost: boolean };

export type EvaluationDecision =
  /** Resolve the GTBench opponents: one that cannot play fails the run before training goes on. */
  | { type: 'check-opponents' }
  | { type: 'evaluate'; plan: StagePlan }
  /** Events to append in one batch. */
  | { type: 'append'; events: NewEvent[] }
  /** The database is away: not the evaluation's failure; the service stops and its restart resumes. */
  | { type: 'crash' };

export const GAME_SUITES_NEED_BUILTIN = 'game suites evaluate built-in policies only';

export function decide(command: EvaluationCommand, state: EvaluationState): EvaluationDecision[] {
  const { runId, config } = state.run;
  const { stage, checkpointHash } = command.ready.payload;
  switch (command.type) {
    case 'evaluate-stage': {
      if (state.ended) return [];
      // Checked at every ready stage, evaluated or not.
      const check: EvaluationDecision[] = config.evaluation.gtbench ? [{ type: 'check-opponents' }] : [];
      if (!config.evaluation.stages.includes(stage)) return check;
      return [...check, { type: 'evaluate', plan: stagePlan(state, stage, checkpointHash) }];
    }
    case 'complete-stage': {
      const { outcomes } = command;
      const results: Record<string, number> = {};
      for (const outcome of outcomes) Object.assign(results, outcome.results);
      const samples = outcomes.flatMap((outcome) => (outcome.sample ? [outcome.sample] : []));
      const completed: NewEvent = {
        eventId: deterministicEventId(runId, 'evaluation.completed', stage),
        type: 'evaluation.completed',
        causationId: command.ready.eventId,
        payload: {
          stage,
          checkpointHash,
          results,
          baselines: outcomes.flatMap((outcome) => outcome.baselines ?? []),
          ...(samples.length > 0 ? { samples } : {}),
        },
      };
      return [{ type: 'append', events: [completed] }];
    }
    case 'fail-stage': {
      if (command.connectionLost) return [{ type: 'crash' }];
      const failed: NewEvent = {
        eventId: deterministicEventId(runId, 'run.failed', 'evaluation', stage),
        type: 'run.failed',
        payload: { phase: `evaluation:${stage}`, error: (command.error as Error).message },
      };
      return [{ type: 'append', events: [failed] }];
    }
  }
}

/** A stage's suites: each eval set's problems, then self-play, then GTBench (the games: built-in policies). */
function stagePlan(state: EvaluationState, stage: Stage, checkpointHash: string): StagePlan {
  const { config, seed } = state.run;
  const { evaluation } = config;
  const datasets = state.datasets ?? [];
  const policy = config.policy.kind === 'pretrained' ? 'pretrained' : 'checkpoint';
  const problems = datasets
    .filter((d) => d.role === 'eval')
    .map((dataset): ProblemSuitePlan => {
      const suite = dataset.split === 'eval' ? 'recon-eval' : 'held-out';
      const { heldOut, reconEval } = evaluation;
      return {
        kind: 'problems',
        suite,
        dataset,
        items: suite === 'recon-eval' ? (reconEval?.items ?? heldOut?.items) : heldOut?.items,
        drawSeed: deriveSeed(seed, 'eval-sample', suite),
        temperature:
          (suite === 'recon-eval' ? reconEval?.temperature : undefined) ?? heldOut?.temperature ?? 0,
        maxNewTokens: evaluation.maxNewTokens,
        baselinesOn: datasets.find((d) => d.role === 'grpo'),
      };
    });
  const games: SuitePlan[] = [
    ...(evaluation.completeInformation ? [{ kind: 'complete-information' as const }] : []),
    ...(evaluation.gtbench
      ? [
          {
            kind: 'gtbench' as const,
            lanes: evaluation.gtbench.opponents.every((o) => typeof o === 'string')
              ? ('workers' as const)
              : ('one' as const),
          },
        ]
      : []),
  ];
  const refused = policy === 'pretrained' && games.length > 0;
  return {
    stage,
    checkpointHash,
    policy,
    suites: [
      ...problems,
      ...(refused ? [{ kind: 'refused' as const, error: GAME_SUITES_NEED_BUILTIN }] : games),
    ],
  };
}

// ---- a problem suite's items ----

/** A row of an eval set (generated problems and imported Recon rows alike). */
export interface EvalRow {
  messages: Array<{ role: 'system' | 'user' | 'assistant'; content: string }>;
  gold: string;
  category?: string;
  itemId?: string;
  index: number;
}

export const promptText = (row: Pick<EvalRow, 'messages'>) => row.messages.map((m) => m.content).join('\n');

/** A row's category; imported Recon rows carry none: the tagger assigns one of the paper's 15 from the prompt. */
export const categoryOf = (row: Pick<EvalRow, 'messages' | 'category'>) =>
  row.category ?? tagProblem(promptText(row));

/** The rows a problem suite evaluates, a seeded draw stratified by category (files are often stored in category blocks). */
export function drawProblemSuite<R extends EvalRow>(
  plan: ProblemSuitePlan,
  rows: readonly R[],
): { items: R[]; sample: EvaluationSample } {
  const drawn = stratifiedSample(rows, plan.items, plan.drawSeed, categoryOf);
  return {
    items: drawn.rows,
    sample: {
      suite: plan.suite,
      dataset: { name: plan.dataset.name, versionHash: plan.dataset.versionHash },
      ...drawn.record,
    },
  };
}

/** An item's completion budget: the suite's, within the policy's context (prompt and end token left room). */
export function itemTokenBudget(plan: ProblemSuitePlan, context: number): number {
  return Math.min(plan.maxNewTokens, context - 2);
}

/**
 * An answered item, graded both ways: the headline (`correct`) of Recon-Eval is the paper's grader, of
 * generated items the exact one.
 */
export function scoreItem(
  runId: string,
  stage: Stage,
  suite: ProblemSuitePlan['suite'],
  row: EvalRow,
  completion: string,
): { event: NewEvent; graded: GradedItem; evaluated: BaselineItem } {
  const exact = exactAnswerGrade(completion, row.gold);
  const paper = paperEvalGrade(completion, row.gold);
  const result = suite === 'recon-eval' ? paper : exact;
  const category = categoryOf(row);
  const verdicts = { exact: exact.correct, paper: paper.correct };
  const itemId = row.itemId ?? `row-${row.index}`;
  return {
    event: {
      eventId: deterministicEventId(runId, 'evaluation.item.scored', stage, suite, itemId),
      type: 'evaluation.item.scored',
      payload: {
        suite,
        stage,
        itemId,
        category,
        completion: storableText(completion),
        parsedAnswer:
          result.parsed === null || result.parsed === undefined ? null : storableText(result.parsed),
        gold: row.gold,
        correct: result.correct,
        verdicts,
      },
    },
    graded: { category, gold: row.gold, correct: result.correct, verdicts },
    evaluated: { category, gold: row.gold, prompt: promptText(row) },
  };
}

// ---- games ----

/**
 * A game event as the run records it, `index` its place among the suite's recorded game events: a suite whose
 * games run in lanes records each game's events in game order, so the ids are those one lane would give.
 */
export function gameEvent(runId: string, stage: Stage, event: GameEvent, index: number): NewEvent {
  return {
    eventId: deterministicEventId(runId, event.type, stage, event.payload.matchId, index),
    type: event.type,
    payload: event.payload,
  } as NewEvent;
}
