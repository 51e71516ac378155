import type { ChanceOutcome, Game, GameState, PlayerId, Turn } from '../core/game';
import { sampleOutcome, type Rng } from '../rng/rng';
import type { InformationSetSampling } from './information-set';
import { lastMatch, type ParsedMove } from './move-text';

/** GTBench's parameters (OpenSpiel defaults): 3 item types, quantities 0..5, values 0..10, 5 symbols, utterances of 3. */
const ITEMS = ['peppers', 'strawberries', 'cherries'];
const MAX_QUANTITY = 5;
const MAX_VALUE = 10;
const SYMBOLS = 5;
export const NEGOTIATION_AGREE = 216;
const UTTERANCE_BASE = 217;

/** Proposal [a, b, c] (what the proposer takes) = 36a + 6b + c. */
export const negotiationProposal = ([a, b, c]: readonly number[]) => 36 * a + 6 * b + c;
/** Utterance [u1, u2, u3] = 217 + 25u1 + 5u2 + u3. */
export const negotiationUtterance = ([a, b, c]: readonly number[]) => UTTERANCE_BASE + 25 * a + 5 * b + c;
const digits = (n: number, base: number) => [Math.floor(n / (base * base)), Math.floor(n / base) % base, n % base];

/**
 * The one chance event of OpenSpiel's negotiation, split into four chance nodes so each draw is an
 * explicit, recorded outcome: the step limit (Poisson(7) redrawn until in 4..10, i.e. truncated; outcome
 * id = the limit), the pool (one quantity 0..5 per item, id = 36a + 6b + c), then each player's values
 * (0..10 per item, never all zero, id = 121a + 11b + c). The values are drawn uniformly among the 1,330
 * non-zero triples: the proper redraw games.md §4 recommends.
 */
const STEP_LIMITS: ChanceOutcome[] = (() => {
  const weight = (k: number) => {
    let w = Math.exp(-7);
    for (let i = 1; i <= k; i += 1) w *= 7 / i;
    return w;
  };
  const limits = [4, 5, 6, 7, 8, 9, 10];
  const total = limits.reduce((sum, k) => sum + weight(k), 0);
  return limits.map((k) => ({ action: k, probability: weight(k) / total }));
})();
const POOLS: ChanceOutcome[] = Array.from({ length: 216 }, (_, action) => ({ action, probability: 1 / 216 }));
const VALUE_TRIPLES: ChanceOutcome[] = Array.from({ length: 1330 }, (_, i) => ({ action: i + 1, probability: 1 / 1330 }));

type Stage = 'proposal' | 'utterance';

class NegotiationState implements GameState, InformationSetSampling {
  readonly game = 'negotiation';

  constructor(
    readonly stepLimit: number | null,
    readonly pool: ReadonlyArray<number> | null,
    readonly values: ReadonlyArray<ReadonlyArray<number>>,
    readonly proposals: ReadonlyArray<ReadonlyArray<number>>,
    readonly utterances: ReadonlyArray<ReadonlyArray<number>>,
    readonly agreed: boolean,
    readonly toMove: PlayerId,
    readonly stage: Stage,
  ) {}

  private with(changes: Partial<NegotiationState>): NegotiationState {
    const s = { ...this, ...changes };
    return new NegotiationState(s.stepLimit, s.pool, s.values, s.proposals, s.utterances, s.agreed, s.toMove, s.stage);
  }

  private setupDone(): boolean {
    return this.values.length === 2;
  }

  /** Agree ends the game at once; otherwise it ends when the last allowed proposer has made its utterance. */
  private isTerminal(): boolean {
    if (!this.setupDone()) return false;
    const limitReached = this.proposals.length >= (this.stepLimit as number);
    return (this.agreed || limitReached) && this.utterances.length === this.proposals.length;
  }

  turn(): Turn {
    if (!this.setupDone()) return { kind: 'chance' };
    if (this.isTerminal()) return { kind: 'terminal' };
    return { kind: 'player', player: this.toMove };
  }

  /** Proposal stage: every [a, b, c] within the pool, then Agree once a proposal exists. Utterance stage: all 125. */
  legalActions(player: PlayerId): number[] {
    const turn = this.turn();
    if (turn.kind !== 'player' || turn.player !== player) return [];
    if (this.stage === 'utterance') return Array.from({ length: SYMBOLS ** 3 }, (_, i) => UTTERANCE_BASE + i);
    const [pa, pb, pc] = this.pool as number[];
    const legal: number[] = [];
    for (let a = 0; a <= pa; a += 1) for (let b = 0; b <= pb; b += 1) for (let c = 0; c <= pc; c += 1) legal.push(negotiationProposal([a, b, c]));
    if (this.proposals.length > 0) legal.push(NEGOTIATION_AGREE);
    return legal;
  }

  chanceOutcomes(): ChanceOutcome[] {
    if (this.setupDone()) return [];
    if (this.stepLimit === null) return STEP_LIMITS;
    return this.pool === null ? POOLS : VALUE_TRIPLES;
  }

  apply(action: number): GameState {
    if (!this.setupDone()) {
      if (!this.chanceOutcomes().some((o) => o.action === action)) throw new Error(`negotiation: chance outcome ${action} is impossible here`);
      if (this.stepLimit === null) return this.with({ stepLimit: action });
      if (this.pool === null) return this.with({ pool: digits(action, 6) });
      return this.with({ values: [...this.values, digits(action, MAX_VALUE + 1)] });
    }
    const turn = this.turn();
    if (turn.kind !== 'player' || !this.legalActions(turn.player).includes(action)) throw new Error(`negotiation: action ${action} is not legal`);
    if (this.stage === 'proposal') {
      if (action === NEGOTIATION_AGREE) return this.with({ agreed: true, stage: 'utterance' });
      return this.with({ proposals: [...this.proposals, digits(action, 6)], stage: 'utterance' });
    }
    return this.with({ utterances: [...this.utterances, digits(action - UTTERANCE_BASE, SYMBOLS)], stage: 'proposal', toMove: 1 - this.toMove });
  }

  applyJoint(): GameState {
    throw new Error('negotiation has no simultaneous moves');
  }

  /** On agreement the final proposal's author gets Σ value × proposal, the other Σ value × (pool - proposal); else 0/0. */
  returns(): number[] {
    if (!this.isTerminal() || !this.agreed) return [0, 0];
    const author = this.proposals.length % 2 === 1 ? 0 : 1;
    const proposal = this.proposals[this.proposals.length - 1];
    const pool = this.pool as number[];
    const returns = [0, 0];
    for (let i = 0; i < ITEMS.length; i += 1) {
      returns[author] += this.values[author][i] * proposal[i];
      returns[1 - author] += this.values[1 - author][i] * (pool[i] - proposal[i]);
    }
    return returns;
  }

  actionToString(_player: PlayerId, action: number): string {
    if (!this.setupDone()) {
      if (this.stepLimit === null) return `step limit ${action}`;
      return this.pool === null ? `pool [${digits(action, 6).join(', ')}]` : `values [${digits(action, MAX_VALUE + 1).join(', ')}]`;
    }
    if (action === NEGOTIATION_AGREE) return '<Agree>';
    if (action >= UTTERANCE_BASE) return `<Utterance: [${digits(action - UTTERANCE_BASE, SYMBOLS).join(', ')}]>`;
    return `<Proposal: [${digits(action, 6).join(', ')}]>`;
  }

  /**
   * Pool, own values, the current stage and the most recent proposal and utterance with their authors. The
   * other player's values stay hidden, and so does the step limit (GTBench's prompt never states it).
   */
  observationString(player: PlayerId): string {
    if (!this.setupDone()) return 'The negotiation has not been set up yet.';
    const pool = this.pool as number[];
    const author = (count: number) => ((count - 1) % 2 === player ? 'your' : "your opponent's");
    const lastProposal = this.proposals.at(-1);
    const lastUtterance = this.utterances.at(-1);
    const lines = [
      `Two players divide a pool of items: ${ITEMS.join(', ')}. Each player values each kind differently and does not know the other's values.`,
      'A turn has two stages. Proposal stage: propose the items you would take, <Proposal: [a, b, c]> (a peppers, b strawberries, c cherries;',
      'each number from 0 to the pool count of that item), or accept the last proposal with <Agree> (only once a proposal exists).',
      'Utterance stage: send a message of three symbols, <Utterance: [a, b, c]>, each from 0 to 4; it has no binding meaning.',
      'On agreement the proposer takes its proposal and the other player the rest, each scoring the sum of its own values of the items it gets.',
      'If the turns run out without agreement, both score 0.',
      `Pool: ${pool.map((n, i) => `${n} ${ITEMS[i]}`).join(', ')}.`,
      `Your values per item: ${this.values[player].map((v, i) => `${ITEMS[i]} ${v}`).join(', ')}.`,
      lastProposal ? `Most recent proposal (${author(this.proposals.length)}): [${lastProposal.join(', ')}].` : 'No proposal yet.',
    ];
    if (lastUtterance) lines.push(`Most recent utterance (${author(this.utterances.length)}): [${lastUtterance.join(', ')}].`);
    if (this.agreed) lines.push('The last proposal was accepted.');
    else if (this.turn().kind === 'player') lines.push(`Current stage: ${this.stage}${this.toMove === player ? ' (your turn)' : " (your opponent's turn)"}.`);
    return lines.join('\n');
  }

  /**
   * Redraws the other player's values (uniform over non-zero triples) and the unannounced step limit, given
   * that the game has not ended: at least the proposals made so far, one more in a proposal stage.
   */
  sampleInformationSet(player: PlayerId, rng: Rng): GameState {
    if (!this.setupDone()) return this;
    const values = [...this.values];
    values[1 - player] = digits(sampleOutcome(VALUE_TRIPLES, rng), MAX_VALUE + 1);
    if (this.isTerminal()) return this.with({ values });
    const least = this.proposals.length + (this.stage === 'proposal' ? 1 : 0);
    const possible = STEP_LIMITS.filter((o) => o.action >= least);
    const total = possible.reduce((sum, o) => sum + o.probability, 0);
    const stepLimit = sampleOutcome(possible.map((o) => ({ action: o.action, probability: o.probability / total })), rng);
    return this.with({ values, stepLimit });
  }

  toString(): string {
    const list = (xs: ReadonlyArray<ReadonlyArray<number>>) => xs.map((x) => x.join('')).join(',');
    return [this.stepLimit, this.pool?.join('') ?? '', list(this.values), list(this.proposals), list(this.utterances), this.agreed ? 'A' : '', this.toMove, this.stage].join('|');
  }
}

export const NEGOTIATION: Game = {
  name: 'negotiation',
  numPlayers: 2,
  suite: 'gtbench',
  initialState: () => new NegotiationState(null, null, [], [], [], false, 0, 'proposal'),
};

export interface NegotiationParseOptions {
  /**
   * GTBench converts a triple only when its numbers are separated by exactly ", "; by default any spacing
   * the pattern accepts is converted (a flagged deviation, games.md §4). True restores the original.
   */
  strictSeparators?: boolean;
}

/**
 * GTBench's pattern: "agree" / "Agree" / "AGREE", or `[int, int, int]` with optional spaces; last match.
 * Proposal stage: "agree" maps to the highest-numbered legal action (Agree once a proposal exists, before
 * that the whole pool); a triple's numbers are capped at 5 and one above the pool is refused. Utterance
 * stage: the numbers are capped at 4; "agree" is refused.
 */
export function makeNegotiationParser(options: NegotiationParseOptions = {}) {
  return (reply: string, state: GameState, player: PlayerId): ParsedMove => {
    const match = lastMatch(reply, /agree|Agree|AGREE|\[\s*\d+\s*,\s*\d+\s*,\s*\d+\s*\]/);
    if (!match) return { ok: false, reason: 'no <Agree> and no [a, b, c] triple' };
    const legal = state.legalActions(player);
    if (legal.length === 0) return { ok: false, reason: `player ${player} is not to move` };
    const utteranceStage = legal[0] >= UTTERANCE_BASE;
    if (/agree/i.test(match[0])) {
      if (utteranceStage) return { ok: false, reason: 'agree is not an utterance' };
      return { ok: true, action: legal[legal.length - 1], matched: match[0] };
    }
    if (options.strictSeparators && !/^\[\d+, \d+, \d+\]$/.test(match[0]))
      return { ok: false, reason: `${match[0]} is not separated by ", "` };
    const numbers = (match[0].match(/\d+/g) as string[]).map(Number);
    const action = utteranceStage
      ? negotiationUtterance(numbers.map((n) => Math.min(SYMBOLS - 1, n)))
      : negotiationProposal(numbers.map((n) => Math.min(MAX_QUANTITY, n)));
    if (!legal.includes(action)) return { ok: false, reason: `${match[0]} asks for more than the pool holds` };
    return { ok: true, action, matched: match[0] };
  };
}

export const parseNegotiationMove = makeNegotiationParser();
