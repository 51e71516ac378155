import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'eval_results' })
export class EvalResultEntity {
  @PrimaryColumn({ name: 'run_id', type: 'text' }) runId!: string;
  @PrimaryColumn({ name: 'global_position', type: 'bigint' }) globalPosition!: string;
  @Column({ type: 'text' }) suite!: string;
  @Column({ type: 'text' }) stage!: string;
  @Column({ name: 'item_id', type: 'text' }) itemId!: string;
  @Column({ type: 'text' }) category!: string;
  @Column({ name: 'parsed_answer', type: 'text', nullable: true }) parsedAnswer!: string | null;
  @Column({ type: 'text' }) gold!: string;
  @Column({ type: 'boolean' }) correct!: boolean;
  @Column({ type: 'double precision', nullable: true }) score!: number | null;
}
