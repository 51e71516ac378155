/** The paper's 15 problem categories (Table 6) with their train-split quotas. */
export const RECON_CATEGORIES = [
  'Enforceability',
  'Backward Induction',
  'Trigger',
  'Feasibility',
  'Auction Risk',
  'Endowment Effect',
  'Certainty Effect',
  'Time Inconsistency',
  'Budget Balance',
  'Condorcet Criterion',
  'Bayes Nash',
  'EconLogicQA',
  'EconNLI',
  'Pure Nash',
  'PTE',
] as const;

export type ReconCategory = (typeof RECON_CATEGORIES)[number];
export type CategoryTag = ReconCategory | 'unknown';

export const TRAIN_QUOTAS: Readonly<Record<ReconCategory, number>> = {
  Enforceability: 250,
  'Backward Induction': 250,
  Trigger: 250,
  Feasibility: 150,
  'Auction Risk': 150,
  'Endowment Effect': 75,
  'Certainty Effect': 75,
  'Time Inconsistency': 25,
  'Budget Balance': 50,
  'Condorcet Criterion': 25,
  'Bayes Nash': 50,
  EconLogicQA: 150,
  EconNLI: 100,
  'Pure Nash': 100,
  PTE: 100,
};

/** Problems per category in the eval split. */
export const EVAL_PER_CATEGORY = 20;
