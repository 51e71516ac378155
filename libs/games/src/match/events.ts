import { validatePayload, type PayloadOf } from '@recon/contracts';

export type GameMovePayload = PayloadOf<'game.move'>;
export type GameFinishedPayload = PayloadOf<'game.finished'>;

export type GameEvent =
  { type: 'game.move'; payload: GameMovePayload } | { type: 'game.finished'; payload: GameFinishedPayload };

/** The caller's sink (the evaluation service appends to the event log); awaited in order. */
export type EmitEvent = (event: GameEvent) => void | Promise<void>;

/** Validates against the contract before emitting, so nothing invalid reaches the log. */
export async function emitMove(emit: EmitEvent, payload: GameMovePayload): Promise<void> {
  await emit({ type: 'game.move', payload: validatePayload('game.move', 1, payload, 'match runner') });
}

export async function emitFinished(emit: EmitEvent, payload: GameFinishedPayload): Promise<void> {
  await emit({
    type: 'game.finished',
    payload: validatePayload('game.finished', 1, payload, 'match runner'),
  });
}
