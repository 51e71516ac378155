import type { CategoryTag, ReconCategory } from './categories';

/**
 * One rule per category, tried in order; the first whose pattern matches the problem text wins. The order
 * matters where templates share words (an endowment-effect story happens "at a charity auction"; a trigger
 * question is also about an infinitely repeated game), so the most specific templates come first.
 */
const RULES: ReadonlyArray<readonly [ReconCategory, RegExp]> = [
  ['PTE', /Perfectly Transparent Equilibrium|\bPTE\b/i],
  ['Pure Nash', /pure strategy Nash equilibri|\bPSNE\b/i],
  ['EconNLI', /premise and a hypothesis|premise can causally lead/i],
  ['EconLogicQA', /Arrange the following|logical (sequence|order)|sequence they would occur/i],
  ['Bayes Nash', /Bayes(ian)?[- ]Nash/i],
  ['Condorcet Criterion', /Condorcet|voters? (voted|ranked)|ranked the candidates/i],
  ['Budget Balance', /budget[- ]balanced?/i],
  ['Endowment Effect', /previously answered|declined to trade|accepted to trade|trade request|wants to trade|say yes to the swap/i],
  ['Time Inconsistency', /\bdollars? (today|tomorrow)\b|\bafter \d+ days\b|\d+ days from now/i],
  // Trigger: the least discount factor sustaining a grim-trigger strategy; its options are discount factors.
  ['Trigger', /(minimum|least|lowest|smallest|minimal) (discount factor|sense of worth)|for the rest of the game|grim[- ]trigger|discount factor[\s\S]*\nOption 1: 0?\.\d+\s*$/im],
  // Multi-round negotiations mention sure gains and auctions too; their round structure identifies them first.
  ['Backward Induction', /\b(two|three|four|[234]) (rounds|stages|phases)\b|\bfirst round\b/i],
  ['Certainty Effect', /guaranteed|\d%%? (chance|probability)|\bat \d+(\.\d+)?%|(probability|likelihood|chances?) (of )?\d/i],
  // Auction stories told as three negotiation rounds are backward-induction problems, not auction choice.
  ['Auction Risk', /risk[- ](averse|seeking|neutral|lover)|(type|kind|form(at)?) of auction|(which|what) (type of |kind of )?auction|auction (type|format|method|style|mechanism)/i],
  // Feasibility: which payoff (a dollar amount or a pair) a repeated game can support; the options are payoffs.
  ['Feasibility', /\nOption 1: \(?\$/],
  ['Enforceability', /infinitely repeated|discount factor|every (year|period)|long-term|each (period|cycle|year)/i],
  ['Backward Induction', /\bround\b|\bphases? of negotiation|\bDrs?\. |treatment|first (decision|move|offer|mover)|moves first|backward induction|subgame/i],
];

/** The category a problem belongs to, from its prompt text, or `unknown` when no template matches. */
export function tagProblem(promptText: string): CategoryTag {
  for (const [category, pattern] of RULES) if (pattern.test(promptText)) return category;
  return 'unknown';
}

/** Every category whose template matches, in rule order (the first is the tag); more than one means ambiguity. */
export function matchingCategories(promptText: string): ReconCategory[] {
  const seen = new Set<ReconCategory>();
  for (const [category, pattern] of RULES) if (pattern.test(promptText)) seen.add(category);
  return [...seen];
}
