import { grimTriggerThreshold } from '../../solvers/repeated';
import { fmt, type ProblemGenerator } from '../problem';

/**
 * Infinitely repeated prisoner's dilemma under grim trigger: either the least discount factor that sustains
 * cooperation, (T-R)/(T-P), among four choices, or whether a given discount factor is enough (Yes/No).
 */
export const trigger: ProblemGenerator = (rng, inSplit) => {
  const punishment = rng.int(1, 20);
  const reward = punishment + rng.int(1, 20);
  const temptation = reward + rng.int(1, 20);
  const sucker = rng.int(0, punishment - 1);
  const scale = rng.pick([1, 10, 100]);
  const threshold = grimTriggerThreshold({ temptation, reward, punishment });
  const family = `trigger|${[temptation, reward, punishment, sucker].join(',')}`;
  if (!inSplit(family)) return null;
  const [t, r, p, s] = [temptation, reward, punishment, sucker].map((x) => x * scale);
  const derivation = {
    full: [
      `Cooperating forever gives ${r}/(1-δ). Defecting once gives ${t} now and ${p} in every later period: ${t} + δ·${p}/(1-δ).`,
      `Cooperation is sustained when ${r} >= (1-δ)·${t} + δ·${p}, that is δ >= (T-R)/(T-P) = (${t}-${r})/(${t}-${p}) = ${fmt(threshold)}.`,
    ],
    compact: [`d >= (T-R)/(T-P) = ${t - r}/${t - p} = ${fmt(threshold)}.`],
  };
  const story =
    `Two firms play an infinitely repeated game with a common discount factor δ. Each period both can cooperate or defect. ` +
    `If both cooperate each earns ${r}; if one defects while the other cooperates, the defector earns ${t} and the cooperator ${s}; if both defect each earns ${p}. ` +
    `Both use grim trigger: cooperate until the other defects, then defect forever.`;
  const compactStory = `Repeated PD, grim trigger. T=${t} R=${r} P=${p} S=${s}.`;
  if (rng.next() < 0.5) {
    const wanted = rng.next() < 0.5;
    const delta = rng.int(5, 95) / 100;
    if (Math.abs(delta - threshold) < 0.005 || delta >= threshold !== wanted) return null;
    const verdict = wanted ? 'Yes' : 'No';
    return {
      key: `trigger|enforce|${[t, r, p, s].join(',')}|${delta}`,
      family,
      full: {
        question: `${story} With δ = ${delta}, is cooperation sustained as a subgame perfect equilibrium? Answer \\boxed{Yes} or \\boxed{No}.`,
        steps: [...derivation.full, `${delta} ${wanted ? '>=' : '<'} ${fmt(threshold)}, so the answer is ${verdict}.`],
      },
      compact: { question: `${compactStory} d=${delta}. Cooperation sustained? Yes/No.`, steps: [...derivation.compact, `${delta} ${wanted ? '>=' : '<'} it: ${verdict}.`] },
      answer: { kind: 'literal', value: verdict },
    };
  }
  const correct = fmt(threshold);
  const candidates = [(reward - punishment) / (temptation - punishment), 1 - threshold, (temptation - reward) / temptation, punishment / reward, (temptation - reward) / (reward - punishment)];
  const distractors: string[] = [];
  for (const x of candidates) {
    const shown = fmt(x);
    if (x > 0 && x < 1 && shown !== correct && !distractors.includes(shown)) distractors.push(shown);
  }
  while (distractors.length < 3) {
    const shown = fmt(rng.int(5, 95) / 100);
    if (shown !== correct && !distractors.includes(shown)) distractors.push(shown);
  }
  // Numeric options vary per item, so their order is drawn here (compact rendering keeps a generator's order).
  const values = rng.permutation(4).map((k) => [correct, ...distractors.slice(0, 3)][k]);
  return {
    key: `trigger|threshold|${[t, r, p, s].join(',')}`,
    family,
    full: { question: `${story} What is the minimum discount factor δ for which grim trigger is a subgame perfect equilibrium?`, steps: derivation.full },
    compact: { question: `${compactStory} Least d sustaining cooperation?`, steps: derivation.compact },
    answer: { kind: 'choice', options: values.map((v) => ({ full: v, compact: v })), correct: values.indexOf(correct) },
  };
};
