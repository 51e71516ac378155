import { parseNashList } from '../grading/answer-shape';
import { condorcetWinner, type Ballot, type PartialBallotReading } from '../solvers/voting';
import { commonPriorEquilibria } from '../solvers/bayes-nash';
import { choose } from '../solvers/discounting';
import { pureNashEquilibria, validateBimatrix, type Bimatrix, type Cell } from '../solvers/normal-form';
import { perfectlyTransparentEquilibrium } from '../solvers/pte';
import type { ReconCategory } from '../tagger/categories';
import { matrixAfter, optionLabel, parseOptions, type PromptOption } from './prompt-parts';

/**
 * What a checker makes of one problem: the computed answer and whether it matches the gold, or why it cannot
 * tell. `evidence` says how the answer was computed; `otherReading` is the answer under a second reading of
 * an underspecified prompt (Condorcet ballots that leave candidates out).
 */
export type CheckOutcome =
  | {
      computed: string;
      agrees: boolean;
      note?: string;
      evidence?: string;
      otherReading?: { reading: string; computed: string; agrees: boolean; evidence: string };
    }
  | { unparsed: string };

export type GoldChecker = (prompt: string, gold: string) => CheckOutcome;

const formatCells = (cells: readonly Cell[]) => `[${cells.map(([i, j]) => `[${i}, ${j}]`).join(', ')}]`;
const sameCells = (a: readonly Cell[], b: readonly Cell[]) => formatCells(a) === formatCells(b);

function bimatrix(prompt: string): Bimatrix | string {
  const row = matrixAfter(prompt, "Player 0's payoff matrix:");
  const col = matrixAfter(prompt, "Player 1's payoff matrix:");
  if (!row || !col) return "no \"Player 0's/1's payoff matrix:\" list literals";
  try {
    validateBimatrix({ row, col });
  } catch (error) {
    return (error as Error).message;
  }
  return { row, col };
}

/** The option whose number the gold names (`Option N: ...`), or null. */
const goldOption = (options: PromptOption[], gold: string) => {
  const n = /^Option (\d+)/.exec(gold)?.[1];
  return options.find((o) => String(o.number) === n) ?? null;
};

const pureNash: GoldChecker = (prompt, gold) => {
  const game = bimatrix(prompt);
  if (typeof game === 'string') return { unparsed: game };
  const goldCells = parseNashList(gold);
  if (goldCells === null) return { unparsed: `gold '${gold}' is not a pure-Nash list` };
  const computed = pureNashEquilibria(game);
  return { computed: formatCells(computed), agrees: sameCells(computed, goldCells) };
};

const pte: GoldChecker = (prompt, gold) => {
  const game = bimatrix(prompt);
  if (typeof game === 'string') return { unparsed: game };
  const goldCells = parseNashList(gold);
  if (goldCells === null) return { unparsed: `gold '${gold}' is not a cell list` };
  const found = perfectlyTransparentEquilibrium(game);
  const computed = found ? [found] : [];
  return { computed: formatCells(computed), agrees: sameCells(computed, goldCells) };
};

const UNRANKED = '(a candidate on no ballot)';
const NO_WINNER = /\btie\b|no (condorcet )?winner|\bnone\b|\bneither\b/i;

const condorcet: GoldChecker = (prompt, gold) => {
  const ballots: Ballot[] = [...prompt.matchAll(/^- (\d+) voters? voted for (.+?)\s*$/gm)].map((m) => ({
    voters: Number(m[1]),
    ranking: m[2].split('>').map((name) => name.trim()),
  }));
  if (ballots.length === 0) return { unparsed: "no '- N voters voted for X > Y > Z' lines" };
  const candidates = [...new Set(ballots.flatMap((b) => b.ranking))];
  const options = parseOptions(prompt);
  if (options.length === 0) return { unparsed: 'no options' };
  const meaning = options.map((o) => {
    const named = candidates.filter((c) => new RegExp(`(^|[^A-Za-z0-9])${c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}([^A-Za-z0-9]|$)`).test(o.text));
    if (named.length === 1) return named[0];
    if (named.length === 0 && NO_WINNER.test(o.text)) return null;
    // A candidate listed in the story but on no ballot (a single capital letter) cannot beat anyone.
    if (named.length === 0 && /(^|\s)[A-Z](\s|[.,]|$)/.test(o.text)) return UNRANKED;
    return undefined;
  });
  const unclear = options.filter((_, k) => meaning[k] === undefined);
  if (unclear.length > 0) return { unparsed: `option(s) ${unclear.map((o) => o.number).join(', ')} name no single candidate` };
  const goldNumber = goldOption(options, gold)?.number;
  const solve = (reading: PartialBallotReading) => {
    const { winner, pairwise } = condorcetWinner(candidates, ballots, reading);
    const tallies = pairwise.map((p) => `${p.a}-${p.b} ${p.forA}-${p.forB}`).join(', ');
    const evidence = `head-to-head votes ${tallies}: ${winner === null ? 'no candidate beats every other' : `${winner} beats every other candidate`}`;
    const matches = options.filter((_, k) => meaning[k] === winner);
    return { winner, evidence, chosen: matches.length === 1 ? matches[0] : null, matches: matches.length };
  };
  const below = solve('below');
  if (!below.chosen) return { unparsed: `${below.matches} options mean ${below.winner ?? 'no winner'}` };
  const partial = ballots.some((b) => b.ranking.length < candidates.length);
  if (!partial)
    return { computed: optionLabel(below.chosen), agrees: goldNumber === below.chosen.number, evidence: below.evidence };
  const abstain = solve('abstain');
  return {
    computed: optionLabel(below.chosen),
    agrees: goldNumber === below.chosen.number,
    note: 'partial rankings: an unlisted candidate counts as ranked below the listed ones',
    evidence: `unlisted candidates ranked below the listed ones: ${below.evidence}`,
    otherReading: {
      reading: 'a ballot takes no side in a pair with a candidate it does not list',
      computed: abstain.chosen ? optionLabel(abstain.chosen) : `${abstain.winner ?? 'no winner'} (${abstain.matches} options mean it)`,
      agrees: abstain.chosen !== null && goldNumber === abstain.chosen.number,
      evidence: `unlisted candidates not compared: ${abstain.evidence}`,
    },
  };
};

type BayesState = { p: number; game: Bimatrix; rows: string[]; cols: string[] };

function bayesStates(prompt: string): BayesState[] | string {
  const probability = new Map([...prompt.matchAll(/probability of state (\d+) is (\d+(?:\.\d+)?)/gi)].map((m) => [Number(m[1]), Number(m[2])]));
  const blocks = prompt.split(/^State (\d+):\s*$/m);
  const states: BayesState[] = [];
  for (let k = 1; k + 1 < blocks.length; k += 2) {
    const index = Number(blocks[k]);
    const lines = blocks[k + 1].split('\n').filter((l) => l.trim() !== '');
    const cols = lines[0].trim().split(/\s{2,}/);
    const rows: string[] = [];
    const row: number[][] = [];
    const col: number[][] = [];
    for (const line of lines.slice(1)) {
      const m = /^(.+?)\s+(\(.*\))\s*$/.exec(line);
      if (!m) break;
      const cells = [...m[2].matchAll(/\(\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*\)/g)].map((c) => [Number(c[1]), Number(c[2])]);
      if (cells.length !== cols.length) return `state ${index}: row '${m[1]}' has ${cells.length} cells for ${cols.length} columns`;
      rows.push(m[1].trim());
      row.push(cells.map((c) => c[0]));
      col.push(cells.map((c) => c[1]));
    }
    const p = probability.get(index);
    if (p === undefined) return `no probability for state ${index}`;
    if (rows.length === 0) return `state ${index}: no payoff rows`;
    states.push({ p, game: { row, col }, rows, cols });
  }
  if (states.length === 0) return "no 'State N:' payoff tables";
  const same = (a: string[], b: string[]) => a.join('|') === b.join('|');
  if (!states.every((s) => same(s.rows, states[0].rows) && same(s.cols, states[0].cols))) return 'states name different actions';
  return states;
}

const bayesNash: GoldChecker = (prompt, gold) => {
  if (!/no player has any information about the state/i.test(prompt)) return { unparsed: 'only the no-private-information template is supported' };
  const states = bayesStates(prompt);
  if (typeof states === 'string') return { unparsed: states };
  const options = parseOptions(prompt);
  const pairs = options.map((o) => /^\('([^']*)', '([^']*)'\)$/.exec(o.text));
  if (options.length === 0 || pairs.some((p) => !p)) return { unparsed: "options are not ('row action', 'column action') pairs" };
  let equilibria: Cell[];
  try {
    equilibria = commonPriorEquilibria(states);
  } catch (error) {
    return { unparsed: (error as Error).message };
  }
  const { rows, cols } = states[0];
  const optionOf = ([i, j]: Cell) => options.find((_, k) => pairs[k]![1] === rows[i] && pairs[k]![2] === cols[j]);
  const chosen = equilibria.map(optionOf);
  if (chosen.some((o) => !o)) return { unparsed: 'an equilibrium has no option' };
  const computed = chosen.map((o) => optionLabel(o!)).join(' | ') || 'no pure equilibrium';
  const goldNumber = goldOption(options, gold)?.number;
  const agrees = chosen.length === 1 && chosen[0]!.number === goldNumber;
  const note = chosen.length > 1 ? `${chosen.length} pure equilibria${chosen.some((o) => o!.number === goldNumber) ? ', gold among them' : ''}` : undefined;
  return { computed, agrees, ...(note ? { note } : {}) };
};

/**
 * Time inconsistency: having chosen between X today and Y tomorrow, the same pair pushed back by d days. An
 * exponential discounter (any delta consistent with the first choice) makes the same choice again.
 */
const timeInconsistency: GoldChecker = (prompt, gold) => {
  const today = /\$?(\d+)(?: dollars)? today/i.exec(prompt);
  const tomorrow = /\$?(\d+)(?: dollars)? tomorrow/i.exec(prompt);
  const chose = /(?:\bchos(?:e|en)|\bchoice)(?: to receive)? \$?(\d+)(?: dollars)? (today|tomorrow)/i.exec(prompt);
  const options = parseOptions(prompt);
  const dated = options.map((o) => /^(\d+) dollars (\d+) days from now$/.exec(o.text));
  if (!today || !tomorrow || !chose) return { unparsed: 'no "X today or Y tomorrow" choice with the amount chosen' };
  if (options.length !== 2 || dated.some((d) => !d)) return { unparsed: "options are not two 'N dollars D days from now'" };
  const [sooner, later] = [Number(today[1]), Number(tomorrow[1])];
  const pickedSooner = chose[2].toLowerCase() === 'today';
  if (Number(chose[1]) !== (pickedSooner ? sooner : later)) return { unparsed: `chosen amount ${chose[1]} is not the ${chose[2]} amount` };
  const [a, b] = dated.map((d) => ({ amount: Number(d![1]), t: Number(d![2]) }));
  if (b.t - a.t !== 1 || a.amount !== sooner || b.amount !== later) return { unparsed: 'the later pair is not the first pair shifted' };
  // Indifference is at delta = X/Y; pick a delta strictly on the side the first choice reveals.
  const delta = pickedSooner ? sooner / later / 2 : (1 + sooner / later) / 2;
  const choice = choose({ kind: 'exponential', delta }, a, b);
  const chosen = options[choice === 'first' ? 0 : 1];
  return { computed: optionLabel(chosen), agrees: goldOption(options, gold)?.number === chosen.number };
};

/** Categories whose prompts are regular enough to solve, keyed by the tagger's category names. */
export const GOLD_CHECKERS: Partial<Record<ReconCategory, GoldChecker>> = {
  'Pure Nash': pureNash,
  PTE: pte,
  'Condorcet Criterion': condorcet,
  'Bayes Nash': bayesNash,
  'Time Inconsistency': timeInconsistency,
};
