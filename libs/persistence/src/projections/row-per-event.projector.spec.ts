import { Column, Entity, PrimaryColumn } from 'typeorm';
import { gameMatchesProjector, rolloutsProjector, RowPerEventProjector } from './row-per-event.projector';
import { GameMatchEntity, RolloutEntity } from '../entities';

/** The rollouts table with a column no rollout.generated payload has. */
@Entity({ name: 'rollouts' })
class RolloutWithStrayColumn {
  @PrimaryColumn({ name: 'run_id', type: 'text' }) runId!: string;
  @PrimaryColumn({ name: 'global_position', type: 'bigint' }) globalPosition!: string;
  @Column({ name: 'rollout_id', type: 'text' }) rolloutId!: string;
  @Column({ type: 'integer' }) votes!: number;
}

describe('RowPerEventProjector', () => {
  it('owns the table its entity declares, in primary-key order', () => {
    expect(rolloutsProjector().tables).toEqual([
      { entity: RolloutEntity, name: 'rollouts', orderBy: 'run_id, global_position' },
    ]);
    expect(gameMatchesProjector().tables[0]).toMatchObject({ entity: GameMatchEntity, name: 'game_matches' });
  });

  it('takes only an entity whose columns are the event and fields of its payload (checked by tsc)', () => {
    // @ts-expect-error `votes` is no field of a rollout.generated payload.
    const stray = new RowPerEventProjector('stray', RolloutWithStrayColumn, 'rollout.generated');
    expect(stray.tables[0].entity).toBe(RolloutWithStrayColumn);
    // The same entity fits an event whose payload has every one of its fields.
    new RowPerEventProjector('rollouts', RolloutEntity, 'rollout.generated');
  });
});
