import type { GameState, PlayerId } from '../core/game';
import { samplesInformationSet } from '../gtbench/information-set';
import { sampleOutcome, type Rng } from '../rng';

/**
 * What the search may see. 'oracle' (GTBench's opponent) searches the true state, hidden cards, dice,
 * valuations and bids included. 'sampled' never looks at what its seat cannot see: every simulation starts
 * from a state drawn from the seat's information set (the engine's `sampleInformationSet`), and one tree
 * over action sequences collects them (single-observer information-set MCTS, Cowling et al. 2012). In
 * games of perfect information both are the same search.
 */
export type MctsInformation = 'oracle' | 'sampled';

export interface MctsOptions {
  /** Exploration constant c of UCT (GTBench: 2). */
  exploration?: number;
  /** Simulations per move (GTBench: 1000). */
  simulations?: number;
  /** Default 'oracle', as GTBench. */
  information?: MctsInformation;
}

interface Node {
  /** The player who chose the move leading here (whose value `total` accumulates), or null at the root/chance. */
  mover: PlayerId | null;
  children: Map<number, Node>;
  visits: number;
  total: number;
  /** How often this node's move was legal when its parent was selected through ('sampled' UCB uses it). */
  available: number;
  /** The state reached and its legal moves, cached in 'oracle' mode, where a path always reaches the same state. */
  state: GameState | null;
  moves: number[] | null;
}

const newNode = (mover: PlayerId | null, state: GameState | null): Node => ({
  mover,
  children: new Map(),
  visits: 0,
  total: 0,
  available: 0,
  state,
  moves: null,
});

function randomRollout(state: GameState, rng: Rng): number[] {
  let current = state;
  for (;;) {
    const turn = current.turn();
    if (turn.kind === 'terminal') return current.returns();
    if (turn.kind === 'chance') current = current.apply(sampleOutcome(current.chanceOutcomes(), rng));
    else if (turn.kind === 'player') {
      const moves = current.legalActions(turn.player);
      current = current.apply(moves[rng.int(moves.length)]);
    } else {
      const snapshot = current;
      current = current.applyJoint(turn.players.map((p) => { const m = snapshot.legalActions(p); return m[rng.int(m.length)]; }));
    }
  }
}

/**
 * UCT Monte Carlo tree search as GTBench's opponent: c = 2, 1,000 simulations, one uniformly random rollout
 * per leaf, chance nodes sampled, raw engine returns as values. 'oracle' is plain UCT (log of the parent's
 * visits); 'sampled' uses each child's availability count instead, since a move (e.g. a bid) may be legal
 * in some drawn states and not others. GTBench also propagates proven terminal values ("solve"); this
 * implementation does not. Sequential moves only: the prisoner's dilemma's simultaneous rounds are refused.
 */
export function mctsMove(root: GameState, player: PlayerId, rng: Rng, options: MctsOptions = {}): number {
  const c = options.exploration ?? 2;
  const simulations = options.simulations ?? 1000;
  const sampled = (options.information ?? 'oracle') === 'sampled';
  const turn = root.turn();
  if (turn.kind === 'simultaneous')
    throw new Error(`mcts: ${root.game} has simultaneous moves; MCTS plays sequential moves only (GTBench uses tit-for-tat there)`);
  if (turn.kind !== 'player' || turn.player !== player) throw new Error(`mcts: ${root.game}: player ${player} is not to move (${turn.kind} node)`);
  const legal = root.legalActions(player);
  if (legal.length === 1) return legal[0];
  const drawRoot = sampled && samplesInformationSet(root) ? () => root.sampleInformationSet(player, rng) : () => root;
  const tree = newNode(null, sampled ? null : root);

  for (let i = 0; i < simulations; i += 1) {
    let state = drawRoot();
    const path: Node[] = [tree];
    let node = tree;
    // Selection and expansion; chance nodes are passed through by sampling an outcome.
    for (;;) {
      const at = state.turn();
      if (at.kind === 'terminal' || at.kind === 'simultaneous') break;
      if (at.kind === 'chance') {
        const outcome = sampleOutcome(state.chanceOutcomes(), rng);
        let child = node.children.get(outcome);
        const next: GameState = child?.state ?? state.apply(outcome);
        if (!child) {
          child = newNode(null, sampled ? null : next);
          node.children.set(outcome, child);
        }
        node = child;
        state = next;
        path.push(node);
        continue;
      }
      const moves = node.moves ?? state.legalActions(at.player);
      if (!sampled) node.moves = moves;
      // In 'oracle' mode every child is one of `moves`, so a full count means nothing is left to try.
      const untried = !sampled && node.children.size === moves.length ? [] : moves.filter((a) => !node.children.has(a));
      if (untried.length > 0) {
        const action = untried[rng.int(untried.length)];
        state = state.apply(action);
        const child = newNode(at.player, sampled ? null : state);
        node.children.set(action, child);
        node = child;
        path.push(node);
        break;
      }
      let best: Node | null = null;
      let bestAction = -1;
      let bestScore = Number.NEGATIVE_INFINITY;
      for (const action of moves) {
        const child = node.children.get(action) as Node;
        child.available += 1;
        const explored = sampled ? child.available : node.visits;
        const score = child.total / child.visits + c * Math.sqrt(Math.log(explored) / child.visits);
        if (score > bestScore) {
          bestScore = score;
          best = child;
          bestAction = action;
        }
      }
      node = best as Node;
      state = node.state ?? state.apply(bestAction);
      path.push(node);
    }
    const returns = randomRollout(state, rng);
    for (const visited of path) {
      visited.visits += 1;
      if (visited.mover !== null) visited.total += returns[visited.mover];
    }
  }
  let bestAction = legal[0];
  let mostVisits = -1;
  for (const action of legal) {
    const visits = tree.children.get(action)?.visits ?? 0;
    if (visits > mostVisits) {
      mostVisits = visits;
      bestAction = action;
    }
  }
  return bestAction;
}
