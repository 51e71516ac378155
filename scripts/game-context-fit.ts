/**
 * Token counts of the complete-information evaluation prompts (both players, every sequential history) and of
 * the game-format training items, with a tokenizer trained the way a run trains it (the run's SFT traces and
 * GRPO problems as corpus). Usage:
 *   node dist/scripts/game-context-fit.js [--vocab 512] [--pretokenizer words|phrases] [--train-items 1500]
 *     [--game-items 600] [--seed 42]
 */
import { Command } from 'commander';
import { GAME_CURRICULUM_CATEGORY_NAMES, generateCurriculum, type CurriculumItem } from '@recon/econ';
import { COMPLETE_INFO_GAMES, nextDecision, type CompleteInfoGame } from '@recon/games';
import { trainTokenizer, type ByteBpeTokenizer, type PretokenizerName } from '@recon/policy';

interface Options {
  vocab: number;
  trainItems: number;
  gameItems: number;
  seed: number;
  pretokenizer: PretokenizerName;
}

/** The run's train items as the data service draws them (recon-mini: 5 as the category divisor). */
function runTrainItems(o: Options): CurriculumItem[] {
  const train = generateCurriculum({ split: 'train', perCategory: Math.ceil(o.trainItems / 5), seed: o.seed });
  if (o.gameItems > 0)
    train.push(
      ...generateCurriculum({
        categories: GAME_CURRICULUM_CATEGORY_NAMES,
        split: 'train',
        count: Math.ceil(o.gameItems / GAME_CURRICULUM_CATEGORY_NAMES.length),
        seed: o.seed,
      }),
    );
  return train;
}

/** The training worker's corpus: trace rows (chat or prompt, then response) and problem rows' messages. */
function runCorpus(items: readonly CurriculumItem[]): string[] {
  const chat = (i: CurriculumItem) => i.messages ?? [{ role: 'user' as const, content: i.prompt }];
  return [
    ...items.map((i) => `${i.messages ? i.messages.map((m) => m.content).join('\n') : i.prompt}\n${i.trace}`),
    ...items.map((i) => chat(i).map((m) => m.content).join('\n')),
  ];
}

/** Every decision of a game: both players of a simultaneous game, every history of a sequential one. */
function decisions(game: CompleteInfoGame): Array<{ who: string; messages: Array<{ role: 'system' | 'user'; content: string }> }> {
  if (game.kind === 'simultaneous') {
    const alice = nextDecision(game, [])!;
    const bob = nextDecision(game, [1])!;
    return [
      { who: 'Alice', messages: alice.messages },
      { who: 'Bob', messages: bob.messages },
    ];
  }
  const found: Array<{ who: string; messages: Array<{ role: 'system' | 'user'; content: string }> }> = [];
  const walk = (made: number[]) => {
    const d = nextDecision(game, made);
    if (!d) return;
    found.push({ who: made.length ? made.join('') : 'root', messages: d.messages });
    walk([...made, 1]);
    walk([...made, 2]);
  };
  walk([]);
  return found;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

function report(tokenizer: ByteBpeTokenizer, items: readonly CurriculumItem[]): void {
  const promptLength = (messages: ReadonlyArray<{ role: 'system' | 'user'; content: string }>) =>
    tokenizer.encodeChat(messages, { addGenerationPrompt: true }).length;
  console.log('\nEvaluation prompts (tokens incl. chat markers and the assistant marker):');
  console.log('| game | decision | prompt tokens |');
  console.log('| --- | --- | --- |');
  let longest = 0;
  for (const game of COMPLETE_INFO_GAMES) {
    for (const d of decisions(game)) {
      const n = promptLength(d.messages);
      longest = Math.max(longest, n);
      console.log(`| ${game.name} | ${d.who} | ${n} |`);
    }
  }
  console.log(`longest evaluation prompt: ${longest}`);

  console.log('\nTraining items (prompt = chat tokens, answer = trace + end of turn):');
  console.log('| group | n | prompt p50 | prompt p90 | prompt max | answer p50 | answer max | whole max |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  const groups = new Map<string, Array<{ prompt: number; answer: number }>>();
  for (const item of items) {
    const size = item.messages && item.category === 'game_simultaneous'
      ? /You have (\d+) choices.*has (\d+)/.exec(item.prompt)!.slice(1).join('x')
      : item.category === 'game_sequential'
        ? `${(item.prompt.match(/the game ends/g) ?? []).length} leaves`
        : '';
    const group = `${item.category}${size ? ` ${size}` : ''}`;
    const chat = item.messages ?? [{ role: 'user' as const, content: item.prompt }];
    const entry = { prompt: promptLength(chat), answer: tokenizer.encode(item.trace).length + 1 };
    (groups.get(group) ?? groups.set(group, []).get(group)!).push(entry);
  }
  for (const [group, rows] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const p = rows.map((r) => r.prompt);
    const a = rows.map((r) => r.answer);
    const whole = rows.map((r) => r.prompt + r.answer);
    console.log(
      `| ${group} | ${rows.length} | ${quantile(p, 0.5)} | ${quantile(p, 0.9)} | ${Math.max(...p)} | ${quantile(a, 0.5)} | ${Math.max(...a)} | ${Math.max(...whole)} |`,
    );
  }
}

const program = new Command()
  .option('--vocab <n>', 'tokenizer vocabulary', '512')
  .option('--train-items <n>', 'datasets.curriculum.trainItems', '1500')
  .option('--game-items <n>', 'datasets.curriculum.gameTrainItems', '600')
  .option('--seed <n>', 'run seed', '42')
  .option('--pretokenizer <name>', 'tokenizer.pretokenizer: words or phrases', 'words')
  .parse();
const raw = program.opts<Record<string, string>>();
const options: Options = {
  vocab: Number(raw.vocab),
  trainItems: Number(raw.trainItems),
  gameItems: Number(raw.gameItems),
  seed: Number(raw.seed),
  pretokenizer: raw.pretokenizer as PretokenizerName,
};
const items = runTrainItems(options);
const tokenizer = trainTokenizer({ corpus: runCorpus(items), vocabSize: options.vocab, pretokenizer: options.pretokenizer });
console.log(`tokenizer: vocab ${tokenizer.vocabSize} (${options.pretokenizer}), corpus ${items.length} train items (${options.gameItems} game items requested)`);
report(tokenizer, items);
