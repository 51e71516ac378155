/**
 * Group-relative advantages as TRL's GRPOTrainer computes them. Rows are ordered group by group:
 * rows [g*G, (g+1)*G) are the G completions of prompt g.
 */
export interface AdvantageOptions {
  numGenerations: number;
  scaleRewards: 'group' | 'batch' | 'none';
  /** Added to the std before dividing; TRL uses 1e-4. */
  epsilon: number;
  /** Bessel-corrected std (torch default) when true. */
  unbiasedStd: boolean;
}

export interface RewardComponents {
  /** Component id -> one reward per row. */
  [component: string]: readonly number[];
}

export interface AdvantageResult {
  /** Weighted sum of the components per row. */
  rewards: number[];
  advantages: number[];
  /** Std of each group's rewards (repeated per row is not done: one entry per group). */
  groupStd: number[];
  groupMean: number[];
  /** Groups whose reward std is (close to) zero: they carry no learning signal. */
  zeroStdGroups: number;
}

/** Sum of weighted reward components per row; a component without a weight counts with weight 1. */
export function combineRewards(
  components: RewardComponents,
  weights: Readonly<Record<string, number>>,
): number[] {
  const ids = Object.keys(components).sort();
  if (ids.length === 0) throw new Error('combineRewards: no reward components given');
  const rows = components[ids[0]].length;
  for (const id of ids) {
    if (components[id].length !== rows) {
      throw new Error(
        `combineRewards: component "${id}" has ${components[id].length} rows, "${ids[0]}" has ${rows}`,
      );
    }
  }
  for (const id of Object.keys(weights)) {
    if (!(id in components)) throw new Error(`combineRewards: weight given for unknown component "${id}"`);
  }
  const rewards = new Array<number>(rows).fill(0);
  for (const id of ids) {
    const weight = weights[id] ?? 1;
    components[id].forEach((value, row) => {
      if (!Number.isFinite(value))
        throw new Error(`combineRewards: component "${id}" row ${row} is ${value}`);
      rewards[row] += weight * value;
    });
  }
  return rewards;
}

export function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

export function std(values: readonly number[], unbiased: boolean): number {
  const n = values.length;
  if (n === 0) return NaN;
  const m = mean(values);
  const squares = values.reduce((acc, v) => acc + (v - m) * (v - m), 0);
  const dof = unbiased ? n - 1 : n;
  return dof > 0 ? Math.sqrt(squares / dof) : 0;
}

/** torch.isclose(x, 0) with its default tolerances (atol 1e-8, rtol irrelevant at 0). */
function isCloseToZero(x: number): boolean {
  return Math.abs(x) <= 1e-8;
}

export function groupAdvantages(rewards: readonly number[], options: AdvantageOptions): AdvantageResult {
  const { numGenerations: g } = options;
  if (rewards.length === 0 || rewards.length % g !== 0) {
    throw new Error(
      `groupAdvantages: ${rewards.length} rewards is not a positive multiple of numGenerations ${g}`,
    );
  }
  const groups = rewards.length / g;
  const groupMean: number[] = [];
  const groupStd: number[] = [];
  for (let i = 0; i < groups; i++) {
    const slice = rewards.slice(i * g, (i + 1) * g);
    groupMean.push(mean(slice));
    groupStd.push(g > 1 ? std(slice, options.unbiasedStd) : 0);
  }
  const batchStd = rewards.length > 1 ? std(rewards, options.unbiasedStd) : 0;
  const advantages = rewards.map((r, row) => {
    const group = Math.floor(row / g);
    const centred = r - groupMean[group];
    if (options.scaleRewards === 'none') return centred;
    const scale = options.scaleRewards === 'group' ? groupStd[group] : batchStd;
    return centred / (scale + options.epsilon);
  });
  return {
    rewards: [...rewards],
    advantages,
    groupStd,
    groupMean,
    zeroStdGroups: groupStd.filter(isCloseToZero).length,
  };
}
