import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'game_matches' })
export class GameMatchEntity {
  @PrimaryColumn({ name: 'run_id', type: 'text' }) runId!: string;
  @PrimaryColumn({ name: 'global_position', type: 'bigint' }) globalPosition!: string;
  @Column({ name: 'match_id', type: 'text' }) matchId!: string;
  @Column({ type: 'text' }) game!: string;
  @Column({ type: 'text' }) suite!: string;
  @Column({ type: 'text' }) stage!: string;
  @Column({ type: 'text' }) opponent!: string;
  @Column({ name: 'agent_seat', type: 'integer' }) agentSeat!: number;
  @Column({ type: 'bigint' }) seed!: string;
  @Column({ type: 'jsonb' }) returns!: number[];
  @Column({ type: 'text' }) outcome!: string;
  @Column({ type: 'text' }) status!: string;
  @Column({ name: 'pareto_optimal_equilibrium', type: 'boolean', nullable: true })
  paretoOptimalEquilibrium!: boolean | null;
  @Column({ name: 'invalid_count', type: 'integer' }) invalidCount!: number;
  @Column({ type: 'integer' }) retries!: number;
}
