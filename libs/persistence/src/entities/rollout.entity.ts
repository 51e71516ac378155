import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'rollouts' })
export class RolloutEntity {
  @PrimaryColumn({ name: 'run_id', type: 'text' }) runId!: string;
  @PrimaryColumn({ name: 'global_position', type: 'bigint' }) globalPosition!: string;
  @Column({ name: 'rollout_id', type: 'text' }) rolloutId!: string;
  @Column({ type: 'integer' }) step!: number;
  @Column({ name: 'prompt_id', type: 'text' }) promptId!: string;
  @Column({ name: 'group_index', type: 'integer' }) groupIndex!: number;
  @Column({ name: 'policy_version', type: 'char', length: 64 }) policyVersion!: string;
  @Column({ type: 'text' }) completion!: string;
  @Column({ name: 'completion_tokens', type: 'integer' }) completionTokens!: number;
  @Column({ type: 'boolean' }) truncated!: boolean;
  @Column({ name: 'finish_reason', type: 'text' }) finishReason!: string;
}
