import { GameFinishedV3, GameMoveV2, latestVersion, validatePayload } from '@recon/contracts';
import type { z } from 'zod';

/** The latest payload shapes; every earlier version's payload is also one of these (fields were only added). */
export type GameMovePayload = z.infer<typeof GameMoveV2.payload>;
export type GameFinishedPayload = z.infer<typeof GameFinishedV3.payload>;
export type GameDecoding = NonNullable<GameFinishedPayload['decoding']>;

export type GameEvent =
  { type: 'game.move'; payload: GameMovePayload } | { type: 'game.finished'; payload: GameFinishedPayload };

/** The caller's sink (the evaluation service appends to the event log); awaited in order. */
export type EmitEvent = (event: GameEvent) => void | Promise<void>;

/** Validates against the contract (latest version) before emitting, so nothing invalid reaches the log. */
export async function emitMove(emit: EmitEvent, payload: GameMovePayload): Promise<void> {
  await emit({ type: 'game.move', payload: validatePayload('game.move', latestVersion('game.move'), payload, 'match runner') });
}

export async function emitFinished(emit: EmitEvent, payload: GameFinishedPayload): Promise<void> {
  await emit({
    type: 'game.finished',
    payload: validatePayload('game.finished', latestVersion('game.finished'), payload, 'match runner'),
  });
}

/**
 * The `decoding` field of an event: absent unless the caller named a mode, so runs that never chose one
 * (free-form only, as before the field existed) record byte-identical payloads and replay unchanged.
 */
export const decodingField = (decoding: GameDecoding | undefined): { decoding?: GameDecoding } =>
  decoding === undefined ? {} : { decoding };
