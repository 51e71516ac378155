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

/**
 * How the built-in policy's replies were produced: free-form sampling, or sampling constrained to the legal
 * moves' reply texts (evaluation.*.decoding). v2 events carry it when the suite's setting is not the default;
 * absent (and in every v1 event) the replies were free-form.
 */
export const gameDecoding = z.enum(['free', 'constrained']);

export const GameMoveV2 = defineEvent({
  type: 'game.move',
  version: 2,
  owner: 'evaluation',
  description: `${GameMove.description} v2: agent moves may name the decoding that produced the reply.`,
  payload: GameMove.payload.extend({ decoding: gameDecoding.optional() }),
});

export const GameFinishedV2 = defineEvent({
  type: 'game.finished',
  version: 2,
  owner: 'evaluation',
  description: `${GameFinished.description} v2: may name the decoding of the agent's replies.`,
  payload: GameFinished.payload.extend({ decoding: gameDecoding.optional() }),
});

/**
 * v3: a GTBench opponent may play through the text protocol (an OpenAI-compatible model or a built-in
 * checkpoint), so it too can end a match with an invalid reply. The fields are present only for such an
 * opponent (a built-in engine's results stay byte-identical to v2).
 */
export const GameFinishedV3 = defineEvent({
  type: 'game.finished',
  version: 3,
  owner: 'evaluation',
  description: `${GameFinishedV2.description} v3: may name a text opponent's policy, its invalid replies and whose reply ended the match.`,
  payload: GameFinishedV2.payload.extend({
    /** Whose invalid reply ended the match; absent: the evaluated agent's (the only player that could fail before v3). */
    fault: z.literal('opponent').optional(),
    /** A text opponent's policy: its checkpoint hash, or `openai:<model>@<base URL>`. */
    opponentPolicy: z.string().min(1).max(600).optional(),
    /** A text opponent's replies that did not parse as a legal move. */
    opponentInvalidCount: nonNegativeInt.optional(),
  }),
});

export const gameEvents = [GameMove, GameFinished, GameMoveV2, GameFinishedV2, GameFinishedV3] as const;
