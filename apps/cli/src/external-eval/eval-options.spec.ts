import { defaultEvalId, EvalUsageError, parsePolicySpec, parseSuites } from './eval-options';

describe('recon eval options', () => {
  it('reads openai:<base-url> policies and names what is wrong in others', () => {
    expect(parsePolicySpec('openai:http://127.0.0.1:8000/v1/')).toEqual({
      kind: 'openai',
      baseUrl: 'http://127.0.0.1:8000/v1',
    });
    expect(parsePolicySpec('openai:https://api.example/openai/v1')).toEqual({
      kind: 'openai',
      baseUrl: 'https://api.example/openai/v1',
    });
    expect(() => parsePolicySpec('http://127.0.0.1:8000')).toThrow(
      /--policy 'http:\/\/127.0.0.1:8000': expected openai:<base-url>/,
    );
    expect(() => parsePolicySpec('openai:ftp://h/v1')).toThrow(/must be http or https, not ftp:/);
    expect(() => parsePolicySpec('openai:not a url')).toThrow(/'not a url' is not a URL/);
    expect(() => parsePolicySpec('builtin:x')).toThrow(EvalUsageError);
  });

  it('reads suite lists in order, without repeats, refusing unknown names', () => {
    expect(parseSuites('gtbench, recon-eval,gtbench')).toEqual(['gtbench', 'recon-eval']);
    expect(() => parseSuites('recon-eval,chess')).toThrow(
      "--suite: unknown suite 'chess' (known: recon-eval, complete-info, gtbench)",
    );
    expect(() => parseSuites(' , ')).toThrow(/--suite: name at least one of/);
  });

  it('derives a valid stream id from any model name', () => {
    const id = defaultEvalId('Qwen/Qwen2.5-7B-Instruct:q4', new Date('2026-12-01T19:30:05.123Z'), 'a1b2c3');
    expect(id).toBe('eval-Qwen-Qwen2.5-7B-Instruct-q4-20261201T193005Z-a1b2c3');
    expect(id).toMatch(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/);
    expect(defaultEvalId('///', new Date(0), 'x')).toBe('eval-model-19700101T000000Z-x');
  });
});
