import { DRACO, PRISONERS_DILEMMA, parseChoice, sequentialPrompt, simultaneousPrompt } from './index';

describe('parseChoice (first <s>..</s> after the last </think>)', () => {
  it.each([
    ['<s>choice_2</s>', 2, true],
    ['<think>maybe <s>choice_1</s></think> final: <s> choice_2 </s>', 2, true],
    ['<s>_choice_1</s> and later <s>choice_2</s>', 1, true],
    ['<s>choice_3</s>', null, false],
    ['choice_1', null, false],
    ['<s>choice_1', null, false],
    ['<s>cooperate</s>', null, false],
    ['', null, false],
  ])('%s', (reply, choice, ok) => {
    const parsed = parseChoice(reply, 2);
    expect(parsed.ok).toBe(ok);
    if (parsed.ok) expect(parsed.choice).toBe(choice);
    else expect(parsed.reason.length).toBeGreaterThan(5);
  });
});

describe('prompts', () => {
  it("reads a simultaneous game's matrix from each player's side, with only legal examples", () => {
    const bob = simultaneousPrompt(PRISONERS_DILEMMA, 'Bob')[1].content;
    expect(bob).toContain('You are Bob.');
    expect(bob).toContain('If you choose choice_1 and Alice chooses choice_2, you get 0 and Alice gets 5.');
    expect(bob).toContain('<s>choice_1</s> or <s>choice_2</s>');
    expect(bob).not.toMatch(/choice_3|cooperate|defect|negotiat/i);
  });

  it('lists sequential rule lines in path order and the moves so far', () => {
    const prompt = sequentialPrompt(DRACO, [1])[1].content;
    expect(prompt).toContain('You are Bob.');
    const lines = prompt.split('\n').filter((l) => l.includes('the game ends'));
    expect(lines[0]).toBe(
      'Alice chooses choice_1, Bob chooses choice_1: the game ends; Alice gets 5 and Bob gets 5.',
    );
    expect(lines).toHaveLength(6);
    expect(prompt).toContain('Moves so far in this game: Alice chose choice_1.');
  });
});

