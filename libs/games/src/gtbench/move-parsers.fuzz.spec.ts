import fc from 'fast-check';
import type { GameState, PlayerId } from '../core/game';
import { parseChoice } from '../complete-info';
import { randomMove } from '../opponents';
import { createRng, deriveSeed, sampleOutcome } from '../rng';
import { GTBENCH_TEXT_GAMES } from '.';
import type { ParsedMove } from './move-text';

const RUNS = 1000;
const SEED = 3030;

/** Decision points of a few seeded random matches: where a move parser is called. */
function decisions(name: string): Array<{ state: GameState; player: PlayerId }> {
  const { game } = GTBENCH_TEXT_GAMES.find((t) => t.game.name === name)!;
  const found: Array<{ state: GameState; player: PlayerId }> = [];
  for (let i = 0; i < 3; i += 1) {
    const rng = createRng(deriveSeed(SEED, name, i));
    let state = game.initialState();
    for (
      let turn = state.turn(), plies = 0;
      turn.kind !== 'terminal' && plies < 400;
      turn = state.turn(), plies += 1
    ) {
      if (turn.kind === 'chance') state = state.apply(sampleOutcome(state.chanceOutcomes(), rng));
      else if (turn.kind === 'player') {
        found.push({ state, player: turn.player });
        state = state.apply(randomMove(state, turn.player, rng));
      } else {
        for (const player of turn.players) found.push({ state, player });
        const current = state;
        state = state.applyJoint(turn.players.map((p) => randomMove(current, p, rng)));
      }
    }
  }
  return found;
}

const NOISE = fc.constantFrom(
  '</think>',
  '<think>',
  'Action:',
  'action: ',
  '<',
  '>',
  '(',
  ')',
  ',',
  ' ',
  '\n',
  '-1',
  '0',
  '99999999999999999999',
  'NaN',
  '1e9',
  'x',
  'bid',
  'raise',
  'call',
  'fold',
  'pass',
  'roll',
  'hold',
  'cooperate',
  'defect',
  '<s>',
  '</s>',
  '\u0000',
  '\ud83d\ude00',
  'ﬁ',
);

describe.each(GTBENCH_TEXT_GAMES.map((t) => t.game.name))(
  '%s move parser under generated adversarial replies',
  (name) => {
    const { parse } = GTBENCH_TEXT_GAMES.find((t) => t.game.name === name)!;
    const points = decisions(name);

    it(`returns a legal move or a reason for ${RUNS} replies, deterministically`, () => {
      let invalid = 0;
      const check = (reply: string, at: number) => {
        const { state, player } = points[at % points.length];
        let parsed: ParsedMove;
        try {
          parsed = parse(reply, state, player);
        } catch (error) {
          throw new Error(`${name}: parse threw on ${JSON.stringify(reply.slice(0, 200))}: ${String(error)}`);
        }
        if (parsed.ok) {
          expect(state.legalActions(player)).toContain(parsed.action);
          expect(typeof parsed.matched).toBe('string');
        } else {
          expect(typeof parsed.reason).toBe('string');
          expect(parsed.reason.length).toBeGreaterThan(3);
          invalid += 1;
        }
        expect(parse(reply, state, player)).toEqual(parsed);
      };
      const legalText = fc.nat().map((at) => {
        const { state, player } = points[at % points.length];
        const actions = state.legalActions(player);
        return state.actionToString(player, actions[at % actions.length]);
      });
      const reply = fc
        .array(fc.oneof(NOISE, legalText, fc.string({ unit: 'binary', maxLength: 8 })), { maxLength: 20 })
        .map((parts) => parts.join(''));
      fc.assert(fc.property(reply, fc.nat(), check), { seed: SEED, numRuns: RUNS });
      const huge = [
        '</think>'.repeat(30_000),
        `Action: ${'('.repeat(100_000)}`,
        `${'Action: 1 '.repeat(20_000)}`,
        `</think>${'9'.repeat(100_000)}`,
        '\ud800'.repeat(100_000),
      ];
      huge.forEach((text, i) => check(text, i));
      process.stdout.write(`${name} move fuzz: ${RUNS + huge.length} cases, ${invalid} invalid, 0 crashes\n`);
    });
  },
);

describe('the complete-information <s>choice_k</s> parser under generated adversarial replies', () => {
  it(`returns a legal choice or a reason for ${3 * RUNS} replies`, () => {
    let invalid = 0;
    const piece = fc.oneof(
      fc.constantFrom(
        '<s>',
        '</s>',
        '<s',
        's>',
        '</think>',
        'choice_',
        '_choice_',
        'choice_1',
        'choice_2',
        'choice_0',
        'choice_99999999999999999999',
        ' ',
        '\n',
        '_',
      ),
      fc.nat({ max: 12 }).map(String),
      fc.nat({ max: 9 }).map((k) => ` <s> choice_${k} </s>`),
      fc.string({ unit: 'binary', maxLength: 6 }),
    );
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 25 }).map((p) => p.join('')),
        fc.integer({ min: 1, max: 8 }),
        (reply, choices) => {
          const parsed = parseChoice(reply, choices);
          if (parsed.ok) {
            expect(Number.isInteger(parsed.choice)).toBe(true);
            expect(parsed.choice).toBeGreaterThanOrEqual(1);
            expect(parsed.choice).toBeLessThanOrEqual(choices);
          } else {
            expect(parsed.reason.length).toBeGreaterThan(3);
            invalid += 1;
          }
          expect(parseChoice(reply, choices)).toEqual(parsed);
        },
      ),
      { seed: SEED + 1, numRuns: 3 * RUNS },
    );
    expect(parseChoice(`<s>${'choice_'.repeat(50_000)}</s>`, 2)).toMatchObject({ ok: false });
    expect(parseChoice('</think>'.repeat(50_000) + '<s>choice_2</s>', 2)).toMatchObject({
      ok: true,
      choice: 2,
    });
    process.stdout.write(`complete-info choice fuzz: ${3 * RUNS} cases, ${invalid} invalid, 0 crashes\n`);
  });
});
