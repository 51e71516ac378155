import { parseExperimentConfig } from '@recon/experiment';
import { EvalUsageError } from './eval-options';
import { parseOpponentSpecs } from './opponent-specs';

/** What a config with these opponents (YAML flow items) holds in evaluation.gtbench.opponents. */
const configOpponents = (items: string[]) =>
  parseExperimentConfig(
    `name: t
datasets: { curriculum: { trainItems: 10 } }
policy: { kind: builtin }
evaluation:
  gtbench:
    opponents:
${items.map((item) => `      - ${item}`).join('\n')}
`,
    'opponents.yaml',
  ).evaluation.gtbench!.opponents;

const refusal = (value: string): string => {
  try {
    parseOpponentSpecs(value);
  } catch (error) {
    expect(error).toBeInstanceOf(EvalUsageError);
    return (error as Error).message;
  }
  throw new Error(`'${value}' was accepted`);
};

describe('recon eval --opponents', () => {
  it('reads engines, LLMs and checkpoints into exactly the settings a config gives for them', () => {
    const specs = [
      'random',
      'tit-for-tat',
      'openai:http://127.0.0.1:8000/v1#tiny',
      'openai:https://api.openai.com/v1#gpt-4o-mini&apiKeyEnv=OPENAI_API_KEY&temperature=0.2&maxTokens=64&name=4o-mini',
      'checkpoint:r1/grpo',
      'checkpoint:r2/sft#temperature=0.3&maxNewTokens=16',
    ];
    const parsed = parseOpponentSpecs(` ${specs.join(' , ')} `);
    expect(parsed.map((p) => p.spec)).toEqual(specs);
    expect(parsed.map((p) => p.setting)).toEqual(
      configOpponents([
        'random',
        'tit-for-tat',
        "{ kind: openai, baseUrl: 'http://127.0.0.1:8000/v1', model: tiny }",
        "{ kind: openai, baseUrl: 'https://api.openai.com/v1', model: gpt-4o-mini, apiKeyEnv: OPENAI_API_KEY, temperature: 0.2, maxTokens: 64, name: 4o-mini }",
        '{ kind: checkpoint, run: r1, stage: grpo }',
        '{ kind: checkpoint, run: r2, stage: sft, temperature: 0.3, maxNewTokens: 16 }',
      ]),
    );
    // A checkpoint of the evaluated run's own stage is a config's `{ kind: checkpoint, stage: sft }`.
    expect(parseOpponentSpecs('checkpoint:sft')[0].setting).toEqual(
      configOpponents(['{ kind: checkpoint, stage: sft }'])[0],
    );
    // A numeric-looking text setting stays text.
    expect(parseOpponentSpecs('openai:http://h/v1#m&name=42&apiKeyEnv=1')[0].setting).toMatchObject({
      name: '42',
      apiKeyEnv: '1',
    });
  });

  it.each([
    [
      'stockfish',
      "--opponents 'stockfish': not an opponent (known forms: random, mcts, mcts-fair, tit-for-tat, openai:<base-url>#<model>, checkpoint:<run>/<stage>)",
    ],
    ['random:x', "--opponents 'random:x': not an opponent (known forms: random,"],
    [
      'openai:http://127.0.0.1:8000/v1',
      "--opponents 'openai:http://127.0.0.1:8000/v1': name the model after the base URL: openai:<base-url>#<model>",
    ],
    ['openai:http://h/v1#temperature=1', 'name the model after the base URL'],
    [
      'openai:ftp://h/v1#m',
      "--opponents 'openai:ftp://h/v1#m': the base URL must be http or https, not ftp:",
    ],
    ['openai:nowhere#m', "--opponents 'openai:nowhere#m': 'nowhere' is not a URL"],
    ['openai:http://h/v1#m&temp=1', `--opponents 'openai:http://h/v1#m&temp=1': Unrecognized key: "temp"`],
    [
      'openai:http://h/v1#m&temperature=hot',
      "--opponents 'openai:http://h/v1#m&temperature=hot': temperature: ",
    ],
    ['openai:http://h/v1#m&temperature=3', "--opponents 'openai:http://h/v1#m&temperature=3': temperature: "],
    [
      'openai:http://h/v1#m&retries',
      "--opponents 'openai:http://h/v1#m&retries': 'retries' is not key=value",
    ],
    ['openai:http://h/v1#m&retries=1&retries=2', "'retries' is given twice"],
    ['openai:http://h/v1#m&model=n', "--opponents 'openai:http://h/v1#m&model=n': 'model' is given twice"],
    ['checkpoint:r1/rl', "--opponents 'checkpoint:r1/rl': stage: "],
    [
      'checkpoint:/sft',
      "--opponents 'checkpoint:/sft': name the run before the stage: checkpoint:<run>/<stage>",
    ],
    ['checkpoint:r1/sft#run=r2', "'run' is given twice"],
    [
      'random,mcts,random',
      "--opponents 'random': opponent 'random' is also opponent 0: give one of them another name",
    ],
    [
      'openai:http://a/v1#m,openai:http://b/v1#m',
      "--opponents 'openai:http://b/v1#m': opponent 'openai:m' is also opponent 0: give one of them another name",
    ],
    [' , ', '--opponents: name at least one of random, mcts'],
  ])('refuses %j in one line naming it', (value, message) => {
    const text = refusal(value);
    expect(text).toMatch(/^--opponents[ :]/);
    expect(text).toContain(message);
    expect(text).not.toContain('\n');
  });
});
