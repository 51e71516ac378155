import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'projection_checkpoints' })
export class ProjectionCheckpointEntity {
  @PrimaryColumn({ type: 'text' }) projector!: string;
  @Column({ name: 'global_position', type: 'bigint' }) globalPosition!: string;
}
