/**
 * Learnability check for the game-format curriculum, outside the event pipeline: trains a tokenizer and a
 * small policy by SFT on the econ curriculum plus game-format items (as a run's data and training services
 * would), then plays the ten complete-information games in self-play with free-form sampling (no re-asks)
 * and reports the valid-move and equilibrium rates with Wilson 95% intervals, and the accuracy on held-out
 * game-format items. Usage:
 *   node dist/scripts/game-sft-check.js [--steps 400] [--context 512] [--vocab 1024] [--pretokenizer phrases]
 *     [--train-items 1500] [--game-items 1200] [--trials 30] [--max-new 96] [--d-model 64] [--layers 2]
 */
import { Command } from 'commander';
import { storableText } from '@recon/contracts';
import { GAME_CURRICULUM_CATEGORY_NAMES, generateCurriculum, gradeGameMove, type CurriculumItem } from '@recon/econ';
import { COMPLETE_INFO_GAMES, runCompleteInfoTrial, type Agent, type Observation } from '@recon/games';
import {
  generate,
  selectBackend,
  SftTrainer,
  trainTokenizer,
  TransformerPolicy,
  type ByteBpeTokenizer,
  type PretokenizerName,
} from '@recon/policy';
import { sftExamples } from '../services/training/src/sft-examples';

const program = new Command()
  .option('--steps <n>', 'SFT steps', '400')
  .option('--batch <n>', 'SFT batch size', '16')
  .option('--lr <x>', 'SFT learning rate', '0.002')
  .option('--context <n>', 'policy context', '512')
  .option('--vocab <n>', 'tokenizer vocabulary', '1024')
  .option('--pretokenizer <name>', 'words or phrases', 'phrases')
  .option('--train-items <n>', 'econ curriculum trainItems (5 as the category divisor, as the data service)', '1500')
  .option('--game-items <n>', 'game-format train items', '1200')
  .option('--trials <n>', 'self-play trials per game', '30')
  .option('--max-new <n>', 'new tokens per decision', '96')
  .option('--temperature <x>', 'sampling temperature in self-play', '0.6')
  .option('--held-out <n>', 'held-out game-format items scored greedily', '200')
  .option('--d-model <n>', 'model width', '64')
  .option('--layers <n>', 'transformer layers', '2')
  .option('--seed <n>', 'seed', '42')
  .parse();
const o = Object.fromEntries(Object.entries(program.opts<Record<string, string>>()).map(([k, v]) => [k, k === 'pretokenizer' ? v : Number(v)])) as Record<string, number> & { pretokenizer: PretokenizerName };

/** Wilson score interval at 95%. */
function wilson(k: number, n: number): [number, number] {
  if (n === 0) return [0, 1];
  const z = 1.96;
  const p = k / n;
  const centre = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / (1 + (z * z) / n);
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}
const rate = (k: number, n: number) => {
  const [lo, hi] = wilson(k, n);
  return `${k}/${n} = ${(k / Math.max(n, 1)).toFixed(2)} [${lo.toFixed(2)}, ${hi.toFixed(2)}]`;
};

/** Free-form sampling of the whole chat; a prompt that does not fit is refused (recorded as an invalid reply). */
class CheckAgent implements Agent {
  readonly name = 'sft-check';
  refused = 0;
  decisions = 0;
  constructor(
    private readonly model: TransformerPolicy,
    private readonly tokenizer: ByteBpeTokenizer,
    private seed: number,
  ) {}
  async act(observation: Observation): Promise<string> {
    this.decisions++;
    const ids = this.tokenizer.encodeChat(observation.messages, { addGenerationPrompt: true });
    const maxTokens = Math.min(o.maxNew, this.model.config.context - ids.length);
    if (maxTokens < 8) {
      this.refused++;
      return `[not asked: the prompt takes ${ids.length} of ${this.model.config.context} context tokens]`;
    }
    const [completion] = generate(this.model, this.tokenizer, [{ promptIds: ids, seed: this.seed++ }], {
      temperature: o.temperature,
      maxTokens,
      stopTokenIds: [this.tokenizer.specialTokens.eos],
    });
    return storableText(completion.text);
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const backend = await selectBackend('auto');
  const econ = generateCurriculum({ split: 'train', perCategory: Math.ceil(o.trainItems / 5), seed: o.seed });
  const games = generateCurriculum({
    categories: GAME_CURRICULUM_CATEGORY_NAMES,
    split: 'train',
    count: Math.ceil(o.gameItems / GAME_CURRICULUM_CATEGORY_NAMES.length),
    seed: o.seed,
  });
  const train: CurriculumItem[] = [...econ, ...games];
  const chat = (i: CurriculumItem) => i.messages ?? [{ role: 'user' as const, content: i.prompt }];
  const corpus = [
    ...train.map((i) => `${chat(i).map((m) => m.content).join('\n')}\n${i.trace}`),
    ...train.map((i) => chat(i).map((m) => m.content).join('\n')),
  ];
  const tokenizer = trainTokenizer({ corpus, vocabSize: o.vocab, pretokenizer: o.pretokenizer });
  const rows = train.map((i) => ({ prompt: i.prompt, ...(i.messages ? { messages: i.messages } : {}), response: i.trace }));
  const examples = sftExamples(tokenizer, rows, o.context);
  console.log(
    `backend ${backend.name}; ${econ.length} econ + ${games.length} game items; vocab ${tokenizer.vocabSize} (${o.pretokenizer}); ` +
      `${examples.sequences.length} sequences, ${examples.chatRowsDropped} game rows dropped (too long), ${examples.truncated} truncated`,
  );
  const model = new TransformerPolicy({
    vocabSize: tokenizer.vocabSize,
    dModel: o.dModel,
    layers: o.layers,
    heads: 4,
    context: o.context,
    tieEmbeddings: true,
    seed: o.seed,
  });
  const trainer = new SftTrainer(model, examples.sequences, {
    batchSize: o.batch,
    maxGradNorm: 1,
    padId: tokenizer.specialTokens.pad,
    maxLength: o.context,
    seed: o.seed,
    schedule: { type: 'cosine', learningRate: o.lr, totalSteps: o.steps, warmupSteps: 20 },
    optimizer: { weightDecay: 0.01 },
  });
  for (let step = 1; step <= o.steps; step++) {
    const m = trainer.trainStep();
    if (step % 50 === 0 || step === 1 || step === 10)
      console.log(`step ${step} loss ${m.loss.toFixed(3)} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  }
  trainer.dispose();

  // Held-out game-format items (test split), greedy.
  const heldOut = generateCurriculum({
    categories: GAME_CURRICULUM_CATEGORY_NAMES,
    split: 'test',
    count: Math.ceil(o.heldOut / 2),
    seed: o.seed,
  });
  const scored = { valid: 0, correct: 0, n: 0, refused: 0 };
  for (const item of heldOut) {
    const ids = tokenizer.encodeChat(chat(item), { addGenerationPrompt: true });
    const maxTokens = Math.min(o.maxNew, o.context - ids.length);
    scored.n++;
    if (maxTokens < 8) {
      scored.refused++;
      continue;
    }
    const [c] = generate(model, tokenizer, [{ promptIds: ids, seed: scored.n }], {
      temperature: 0,
      maxTokens,
      stopTokenIds: [tokenizer.specialTokens.eos],
    });
    const grade = gradeGameMove(c.text, item.answer);
    if (grade.parsed !== null && /^_?choice_\d+$/.test(grade.parsed)) scored.valid++;
    if (grade.correct) scored.correct++;
    if (scored.n <= 3) console.log(`held-out sample: ${JSON.stringify(c.text)} gold ${item.answer}`);
  }
  console.log(
    `held-out game items (greedy): valid ${rate(scored.valid, scored.n)}, correct ${rate(scored.correct, scored.n)}, refused ${scored.refused}`,
  );

  // Self-play on the ten evaluation games, free-form, no re-asks.
  console.log('| game | trials | valid trials | NE trials | valid decisions |');
  console.log('| --- | --- | --- | --- | --- |');
  const total = { trials: 0, valid: 0, ne: 0, decisions: 0, validDecisions: 0, refused: 0 };
  for (const game of COMPLETE_INFO_GAMES) {
    const g = { valid: 0, ne: 0, decisions: 0, invalidDecisions: 0 };
    for (let t = 0; t < o.trials; t++) {
      const agent = new CheckAgent(model, tokenizer, o.seed * 1000 + t * 7 + 1);
      const finished = await runCompleteInfoTrial(game, agent, {
        matchId: `${game.name}-${t}`,
        stage: 'sft-check',
        seed: t,
        policy: { kind: 'forfeit' },
        emit: () => undefined,
      });
      if (finished.outcome !== 'invalid') g.valid++;
      if (finished.outcome === 'equilibrium') g.ne++;
      g.decisions += agent.decisions;
      g.invalidDecisions += finished.invalidCount;
      total.refused += agent.refused;
    }
    console.log(`| ${game.name} | ${o.trials} | ${rate(g.valid, o.trials)} | ${rate(g.ne, o.trials)} | ${rate(g.decisions - g.invalidDecisions, g.decisions)} |`);
    total.trials += o.trials;
    total.valid += g.valid;
    total.ne += g.ne;
    total.decisions += g.decisions;
    total.validDecisions += g.decisions - g.invalidDecisions;
  }
  console.log(
    `| all | ${total.trials} | ${rate(total.valid, total.trials)} | ${rate(total.ne, total.trials)} | ${rate(total.validDecisions, total.decisions)} |`,
  );
  console.log(`refused (prompt did not fit): ${total.refused}; wall ${((performance.now() - started) / 1000).toFixed(0)} s`);
  model.dispose();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
