import {
  chatTurns,
  completionBudget,
  InvalidChatRequestError,
  parseChatCompletionRequest,
} from './chat-completion';

describe('chat completions of a built-in policy', () => {
  it('accepts OpenAI requests (text parts, stop as a string, unknown fields) and refuses what it cannot honour', () => {
    const request = parseChatCompletionRequest({
      model: 'x',
      messages: [
        { role: 'system', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Price' },
            { type: 'text', text: '?' },
          ],
        },
      ],
      stop: '\n',
      presence_penalty: 0,
    });
    expect(chatTurns(request)).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Price?' },
    ]);
    const refused = (body: unknown) => {
      try {
        parseChatCompletionRequest(body);
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidChatRequestError);
        return { param: (error as InvalidChatRequestError).param, message: (error as Error).message };
      }
      throw new Error('accepted');
    };
    expect(refused({ messages: [] }).param).toBe('messages');
    expect(refused({ messages: [{ role: 'tool', content: 'x' }] }).param).toBe('messages.0.role');
    expect(refused({ messages: [{ role: 'user', content: 'x' }], temperature: -1 }).param).toBe(
      'temperature',
    );
    expect(refused({ messages: [{ role: 'user', content: 'x' }], stream: true }).message).toMatch(
      /streaming is not supported/,
    );
    expect(refused(null).param).toBeNull();
  });

  it('gives the completion what the context leaves, keeping at least half of it for a long prompt', () => {
    expect(completionBudget(256, 40, 100)).toBe(100);
    expect(completionBudget(256, 40, undefined)).toBe(216);
    expect(completionBudget(256, 40, 6144)).toBe(216);
    expect(completionBudget(256, 1000, 6144)).toBe(128); // the prompt is shortened to 128
    expect(completionBudget(256, 1, 6144)).toBe(254);
    expect(completionBudget(4, 3, 10)).toBe(2);
  });
});
