import { z } from 'zod';
import { defineEvent } from '../define-event';
import { finite, nonNegativeInt, storedText } from '../common';

export const GameMove = defineEvent({
  type: 'game.move',
  version: 1,
  owner: 'evaluation',
  description:
    'One step of a match: an agent or opponent decision (observation, raw text, parsed move) or a chance outcome with its seed.',
  payload: z.strictObject({
    matchId: z.string().min(1),
    game: z.string().min(1),
    ply: nonNegativeInt,
    actor: z.enum(['agent', 'opponent', 'chance']),
    seat: z.number().int().min(-1),
    observation: storedText.optional(),
    rawText: storedText.optional(),
    parsedMove: z.string().nullable().optional(),
    action: z.number().int().nullable(),
    legal: z.boolean(),
    attempt: nonNegativeInt.optional(),
    chanceSeed: nonNegativeInt.optional(),
  }),
});

export const GameFinished = defineEvent({
  type: 'game.finished',
  version: 1,
  owner: 'evaluation',
  description: 'A match ended: returns per seat, outcome for the evaluated agent, status and invalid counts.',
  payload: z.strictObject({
    matchId: z.string().min(1),
    game: z.string().min(1),
    suite: z.enum(['complete-information', 'gtbench']),
    stage: z.string().min(1),
    opponent: z.string().min(1),
    agentSeat: z.number().int().min(-1),
    seed: nonNegativeInt,
    returns: z.array(finite),
    outcome: z.enum(['win', 'loss', 'draw', 'abnormal', 'equilibrium', 'non-equilibrium', 'invalid']),
    status: z.enum(['normal', 'abnormal']),
    paretoOptimalEquilibrium: z.boolean().optional(),
    invalidCount: nonNegativeInt,
    retries: nonNegativeInt,
    /** How unparseable replies were handled: 'forfeit', 'abnormal' or 'reask:<k>'. */
    invalidPolicy: z.string().regex(/^(forfeit|abnormal|reask:\d+)$/),
  }),
});

export const gameEvents = [GameMove, GameFinished] as const;
