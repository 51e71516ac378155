import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'runs' })
export class RunEntity {
  @PrimaryColumn({ name: 'run_id', type: 'text' }) runId!: string;
  /**
   * What opened the stream: `run.requested` (training), `external.evaluation.requested` (`recon eval`) or
   * `distillation.requested` (`recon dataset distill`).
   */
  @Column({ type: 'text' }) kind!: 'training' | 'external-eval' | 'distillation';
  @Column({ type: 'text' }) name!: string;
  @Column({ type: 'text' }) status!: 'requested' | 'completed' | 'failed';
  @Column({ type: 'bigint' }) seed!: string;
  @Column({ name: 'config_hash', type: 'char', length: 64 }) configHash!: string;
  @Column({ name: 'requested_by', type: 'text' }) requestedBy!: string;
  @Column({ name: 'code_version', type: 'text' }) codeVersion!: string;
  @Column({ name: 'requested_at', type: 'text' }) requestedAt!: string;
  /** The model: `builtin`, or the model name sent to an OpenAI-compatible endpoint. */
  @Column({ type: 'text', nullable: true }) model!: string | null;
  /** The endpoint of an OpenAI-compatible model, with any credentials in it redacted. */
  @Column({ name: 'base_url', type: 'text', nullable: true }) baseUrl!: string | null;
  @Column({ name: 'finished_at', type: 'text', nullable: true }) finishedAt!: string | null;
  @Column({ type: 'text', nullable: true }) failure!: string | null;
  @Column({ name: 'parent_run_id', type: 'text', nullable: true }) parentRunId!: string | null;
  @Column({ name: 'parent_step', type: 'integer', nullable: true }) parentStep!: number | null;
  @Column({ name: 'changed_keys', type: 'jsonb', nullable: true }) changedKeys!: string[] | null;
  @Column({ type: 'jsonb', nullable: true }) summary!: Record<string, number> | null;
  @Column({ name: 'event_count', type: 'integer' }) eventCount!: number;
  @Column({ name: 'last_position', type: 'integer' }) lastPosition!: number;
  /** When the run's last event (the one at last_position) occurred: how `recon runs` tells running from stalled. */
  @Column({ name: 'last_event_at', type: 'text' }) lastEventAt!: string;
}
