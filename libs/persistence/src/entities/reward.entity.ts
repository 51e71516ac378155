import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'rewards' })
export class RewardEntity {
  @PrimaryColumn({ name: 'run_id', type: 'text' }) runId!: string;
  @PrimaryColumn({ name: 'global_position', type: 'bigint' }) globalPosition!: string;
  @Column({ name: 'rollout_id', type: 'text' }) rolloutId!: string;
  @Column({ type: 'integer' }) step!: number;
  @Column({ name: 'reward_id', type: 'text' }) rewardId!: string;
  @Column({ name: 'reward_version', type: 'text' }) rewardVersion!: string;
  @Column({ type: 'double precision' }) total!: number;
  @Column({ type: 'jsonb' }) components!: Record<string, number>;
}
