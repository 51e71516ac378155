/** Stage-game payoffs of a symmetric prisoner's-dilemma-like game: temptation, reward, punishment. */
export interface TriggerPayoffs {
  temptation: number;
  reward: number;
  punishment: number;
}

/**
 * The least discount factor at which grim trigger (cooperate until the other defects, then defect forever)
 * sustains cooperation: R/(1-δ) >= T + δP/(1-δ)  <=>  δ >= (T-R)/(T-P). Requires T > R > P.
 */
export function grimTriggerThreshold({ temptation: t, reward: r, punishment: p }: TriggerPayoffs): number {
  for (const [name, v] of [['temptation', t], ['reward', r], ['punishment', p]] as const) {
    if (!Number.isFinite(v)) throw new Error(`grim trigger: ${name} must be a finite number`);
  }
  if (!(t > r && r > p)) throw new Error(`grim trigger: needs temptation > reward > punishment, got T=${t} R=${r} P=${p}`);
  return (t - r) / (t - p);
}

/** Is cooperation under grim trigger an equilibrium at discount factor delta (0 <= delta < 1)? */
export function grimTriggerEnforceable(payoffs: TriggerPayoffs, delta: number): boolean {
  if (!(delta >= 0 && delta < 1)) throw new Error(`grim trigger: discount factor ${delta} is not in [0, 1)`);
  return delta >= grimTriggerThreshold(payoffs);
}
