import { GTBENCH_TEXT_GAMES } from '@recon/games';
import {
  GTBENCH_GAMES,
  gtbenchOpponentName,
  loadExperimentConfig,
  parseExperimentConfig,
  resolveConfigPath,
} from './index';

const config = (gtbench: string) => `
name: opponents
datasets: { curriculum: { trainItems: 10 } }
policy: { kind: builtin }
evaluation:
  gtbench:
${gtbench
  .trim()
  .split('\n')
  .map((line) => `    ${line}`)
  .join('\n')}
`;

const refusal = (gtbench: string) => {
  try {
    parseExperimentConfig(config(gtbench), 'opponents.yaml');
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('the config was accepted');
};

describe('evaluation.gtbench.opponents: engines, OpenAI-compatible models and checkpoints', () => {
  it('parses every kind with its defaults and names each', () => {
    const parsed = parseExperimentConfig(
      config(`
opponents:
  - random
  - { kind: openai, baseUrl: 'http://127.0.0.1:8000/v1', model: gpt-4o-mini, apiKeyEnv: OPENAI_API_KEY }
  - { kind: checkpoint, stage: sft }
  - { kind: checkpoint, run: r1, stage: grpo, temperature: 0.3, name: r1-rl }
`),
      'opponents.yaml',
    );
    const opponents = parsed.evaluation.gtbench!.opponents;
    expect(opponents[1]).toEqual({
      kind: 'openai',
      baseUrl: 'http://127.0.0.1:8000/v1',
      model: 'gpt-4o-mini',
      apiKeyEnv: 'OPENAI_API_KEY',
      temperature: 0.2,
      maxTokens: 1024,
      concurrency: 4,
      timeoutMs: 120_000,
      retries: 3,
      minBackoffMs: 500,
    });
    expect(opponents.map(gtbenchOpponentName)).toEqual([
      'random',
      'openai:gpt-4o-mini',
      'checkpoint:sft',
      'r1-rl',
    ]);
    expect(gtbenchOpponentName({ kind: 'checkpoint', run: 'r1', stage: 'grpo' })).toBe('checkpoint:r1/grpo');
    expect(parsed.evaluation.gtbench!.games).toBeUndefined();
  });

  it('refuses a bad opponent naming the field, and two opponents of one name', () => {
    expect(refusal('opponents: [random, stockfish]')).toMatch(
      /opponents\.yaml:\d+: 'evaluation\.gtbench\.opponents\.1': unknown opponent "stockfish": a built-in one is random, mcts/,
    );
    expect(refusal('opponents: [{ kind: openai, model: m }]')).toMatch(
      /'evaluation\.gtbench\.opponents\.0\.baseUrl': Invalid input/,
    );
    expect(refusal('opponents: [{ kind: gpt }]')).toMatch(/'evaluation\.gtbench\.opponents\.0\.kind'/);
    expect(refusal('opponents: [{ kind: checkpoint, stage: rl }]')).toMatch(
      /'evaluation\.gtbench\.opponents\.0\.stage'/,
    );
    expect(refusal("opponents: [{ kind: openai, baseUrl: 'http://h/v1', model: m, temp: 1 }]")).toMatch(
      /unknown key\(s\) 'temp'/,
    );
    expect(
      refusal(
        "opponents: [{ kind: openai, baseUrl: 'http://a/v1', model: m }, { kind: openai, baseUrl: 'http://b/v1', model: m }]",
      ),
    ).toMatch(
      /'evaluation\.gtbench\.opponents\.1': opponent 'openai:m' is also opponent 0: give one of them another name/,
    );
  });

  it('plays a subset of the ten games when asked, each once', () => {
    expect([...GTBENCH_GAMES]).toEqual(GTBENCH_TEXT_GAMES.map((t) => t.game.name));
    const parsed = parseExperimentConfig(config('games: [nim, tictactoe]'), 'opponents.yaml');
    expect(parsed.evaluation.gtbench!.games).toEqual(['nim', 'tictactoe']);
    expect(refusal('games: [chess]')).toMatch(/'evaluation\.gtbench\.games\.0'/);
    expect(refusal('games: [nim, nim]')).toMatch(/each game may appear once/);
  });

  it('leaves the default preset as it was: the random engine only, every game', () => {
    const gtbench = loadExperimentConfig(resolveConfigPath('recon-mini')).evaluation.gtbench!;
    expect(gtbench.opponents).toEqual(['random']);
    expect(gtbench.games).toBeUndefined();
  });
});
