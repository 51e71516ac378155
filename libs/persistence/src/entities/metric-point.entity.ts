import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One logged value of a metric series. A point whose step is not above the series' last step is never
 * dropped: it is stored, and the points it rewinds over are marked `supersededBy` its event's position.
 */
@Entity({ name: 'metric_points' })
export class MetricPointEntity {
  @PrimaryColumn({ name: 'run_id', type: 'text' }) runId!: string;
  @PrimaryColumn({ type: 'text' }) name!: string;
  @PrimaryColumn({ name: 'global_position', type: 'bigint' }) globalPosition!: string;
  @Column({ type: 'integer' }) step!: number;
  @Column({ type: 'double precision' }) value!: number;
  @Column({ name: 'superseded_by', type: 'bigint', nullable: true }) supersededBy!: string | null;
}
