/** The shapes of the gateway's answers the explorer reads (services/api/src/http, services/api/src/explorer). */
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
}
