/**
 * The shapes of the gateway's answers the explorer reads (services/api/src/http, services/api/src/explorer;
 * the run view and its report blocks: libs/run-report).
 */
export interface Run {
  runId: string;
  kind: string;
  name: string;
  status: 'requested' | 'completed' | 'failed';
  seed: string;
  model: string | null;
  requestedAt: string;
  finishedAt: string | null;
  failure: string | null;
  parentRunId: string | null;
  parentStep: number | null;
  summary: Record<string, number> | null;
  eventCount: number;
  /** When the run's last event occurred (ISO 8601): running or stalled is derived from it (@recon/run-activity). */
  lastEventAt: string;
}

export type ReportBlock =
  | { kind: 'heading'; level: number; text: string }
  | { kind: 'paragraph'; text: string }
  | { kind: 'list'; items: string[] }
  | { kind: 'table'; head: string[]; rows: string[][] }
  | { kind: 'code'; text: string }
  | { kind: 'image'; alt: string; src: string };

export interface SeriesPoint {
  step: number;
  [metric: string]: number;
}

export interface RunView {
  runId: string;
  name: string | null;
  events: number;
  lastPosition: number;
  configYaml: string | null;
  configHash: string | null;
  seed: number | null;
  datasets: Array<{
    role: string;
    name: string;
    versionHash: string;
    blobHash: string;
    split: string;
    rowCount: number;
  }>;
  checkpoints: Array<{ phase: string; step: number; checkpointHash: string; sizeBytes: number }>;
  sft: SeriesPoint[];
  grpo: SeriesPoint[];
  rolloutSteps: number[];
  matches: number;
  report: ReportBlock[];
}

export interface RecordedEvent {
  eventId: string;
  type: string;
  version: number;
  position: number;
  occurredAt: string;
  payload: unknown;
  producer?: { service: string; version: string };
}

export interface GroupCompletion {
  rolloutId: string;
  groupIndex: number;
  completion: string;
  completionTokens: number;
  finishReason: string;
  truncated: boolean;
  reward: number | null;
  rewards: Array<{
    rewardId: string;
    rewardVersion: string;
    total: number;
    components: Record<string, number>;
  }>;
  advantage: number | null;
}

export interface StepGroups {
  step: number;
  groupSize: number | null;
  scaleRewards: string;
  groups: Array<{
    promptId: string;
    source: { datasetVersion: string; rowIndex: number; category?: string } | null;
    completions: GroupCompletion[];
  }>;
  rescores?: Array<{
    streamId: string;
    rewardId: string;
    rewardVersion: string;
    totals: Record<string, number>;
  }>;
}

export interface MatchSummary {
  matchId: string;
  game: string;
  suite: 'complete-information' | 'gtbench';
  stage: string;
  opponent: string;
  agentSeat: number;
  outcome: string;
  status: string;
  paretoOptimalEquilibrium: boolean | null;
  returns: number[];
  invalidCount: number;
  retries: number;
  moves: number;
}

export interface MatchPage {
  total: number;
  offset: number;
  matches: MatchSummary[];
  facets: { game: string[]; stage: string[]; opponent: string[]; outcome: string[] };
}

export interface ReplayedMove {
  position: number;
  ply: number;
  actor: 'agent' | 'opponent' | 'chance';
  seat: number;
  attempt: number;
  observation: string | null;
  rawText: string | null;
  parsedMove: string | null;
  action: number | null;
  legal: boolean;
  invalidReason: string | null;
  stateAfter: string | null;
  returnsAfter: number[] | null;
}

export interface MatchReplay {
  summary: MatchSummary;
  finished: Record<string, unknown>;
  payoffs: string | null;
  moves: ReplayedMove[];
  check: { matches: boolean; recomputedOutcome: string | null; problem: string | null };
}

export interface AuditView {
  runId: string;
  ok: boolean;
  chain: {
    eventsChecked: number;
    ok: boolean;
    headHash: string | null;
    tombstoned: number;
    firstBroken: {
      position: number;
      eventId: string | null;
      check: string;
      expected: string;
      found: string;
    } | null;
  };
  checkpoint: { status: string; description: string };
  blobs: { ok: boolean; description: string; firstProblem: string | null };
  report: ReportBlock[];
}

export interface VerificationJob {
  runId: string;
  state: 'running' | 'succeeded' | 'diverged' | 'failed';
  startedAt: string;
  finishedAt: string | null;
  startedBy: string;
  exitCode: number | null;
  output: string[];
}

export interface PairedDifference {
  items: number;
  both: number;
  firstOnly: number;
  secondOnly: number;
  neither: number;
  difference: number;
  low: number;
  high: number;
  pValue: number;
}

export interface RunComparison {
  runs: Array<{
    runId: string;
    name: string | null;
    seed: number | null;
    configHash: string | null;
    events: number;
    sft: SeriesPoint[];
    grpo: SeriesPoint[];
  }>;
  configDiff: Array<{ key: string; values: Array<string | null> }>;
  changes: Array<{
    suite: string;
    baseline: string;
    runId: string;
    stage: string;
    verdict: 'exact' | 'headline';
    change: PairedDifference;
  }>;
}
