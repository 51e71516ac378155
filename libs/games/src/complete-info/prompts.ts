import type { SimultaneousGame } from './simultaneous-games';
import { terminalPaths, type SequentialGame } from './sequential-games';

export type Player = 'Alice' | 'Bob';

export interface ChatMessage {
  role: 'system' | 'user';
  content: string;
}

const SYSTEM =
  'You are a rational assistant taking part in a game. Read the rules carefully and answer as the player you are told you are.';

export const label = (k: number) => `choice_${k}`;

function closing(legal: string[]): string {
  const examples = legal.map((l) => `<s>${l}</s>`).join(' or ');
  return [
    'Analyse the situation, then choose exactly one action that maximises your own reward.',
    `Give your final choice wrapped in <s> and </s>, for example ${examples}.`,
    `Legal choices: ${legal.join(', ')}.`,
  ].join('\n');
}

/**
 * One player's prompt in a one-round simultaneous game: the players, how many choices each has, and one
 * rule line per (own choice, other's choice) giving both rewards from this player's side (games.md §2.1).
 */
export function simultaneousPrompt(game: SimultaneousGame, player: Player): ChatMessage[] {
  const other: Player = player === 'Alice' ? 'Bob' : 'Alice';
  const rows = game.payoffs.length;
  const columns = game.payoffs[0].length;
  const mine = player === 'Alice' ? rows : columns;
  const theirs = player === 'Alice' ? columns : rows;
  const lines: string[] = [];
  for (let i = 0; i < mine; i += 1) {
    for (let j = 0; j < theirs; j += 1) {
      const [a, b] = player === 'Alice' ? game.payoffs[i][j] : game.payoffs[j][i];
      const [own, others] = player === 'Alice' ? [a, b] : [b, a];
      lines.push(
        `If you choose ${label(i + 1)} and ${other} chooses ${label(j + 1)}, you get ${own} and ${other} gets ${others}.`,
      );
    }
  }
  const legal = Array.from({ length: mine }, (_, i) => label(i + 1));
  return [
    { role: 'system', content: SYSTEM },
    {
      role: 'user',
      content: [
        `This is a one-round game between two players, Alice and Bob. You are ${player}. Your aim is to maximise your own reward.`,
        `You have ${mine} choices (${legal.join(', ')}); ${other} has ${theirs} (${Array.from({ length: theirs }, (_, j) => label(j + 1)).join(', ')}).`,
        "Both players choose at the same time, without seeing the other's choice.",
        '',
        'Rules:',
        ...lines,
        '',
        closing(legal),
      ].join('\n'),
    },
  ];
}

/** Who decides at a path depth: Alice at depths 1 and 3, Bob at depth 2. */
export const deciderAt = (depth: number): Player => (depth % 2 === 0 ? 'Alice' : 'Bob');

/**
 * One player's prompt in a sequential game: one rule line per terminal path (who chooses which label, in
 * order, then Alice's and Bob's rewards), ordered by path length then labels, and the moves so far.
 */
export function sequentialPrompt(game: SequentialGame, history: number[]): ChatMessage[] {
  const player = deciderAt(history.length);
  const describePath = (path: number[]) =>
    path.map((c, d) => `${deciderAt(d)} chooses ${label(c)}`).join(', ');
  const rules = terminalPaths(game.tree).map(
    ({ path, rewards }) =>
      `${describePath(path)}: the game ends; Alice gets ${rewards[0]} and Bob gets ${rewards[1]}.`,
  );
  const moves = history.map((c, d) => `${deciderAt(d)} chose ${label(c)}`).join('. ');
  const legal = [label(1), label(2)];
  return [
    { role: 'system', content: SYSTEM },
    {
      role: 'user',
      content: [
        `This is a sequential-move game between two players, Alice and Bob. You are ${player}. Your aim is to maximise your own reward.`,
        'Players move in turn; the available choices can differ from one round to the next.',
        '',
        "Rules (each line is one way the game can go, then both rewards, Alice's first):",
        ...rules,
        '',
        history.length > 0
          ? `Moves so far in this game: ${moves}.`
          : 'No moves have been made yet: you move first.',
        '',
        closing(legal),
      ].join('\n'),
    },
  ];
}

export type ParsedChoice =
  { ok: true; choice: number; text: string } | { ok: false; reason: string; text: string | null };

/**
 * Hua et al.'s extraction with games.md §4's recommendations: the span from the first `<s>` to the first
 * `</s>` after it, in the text after the last `</think>` (the whole reply when there is none), trimmed;
 * `choice_k` or `_choice_k`, and k must be a legal choice.
 */
export function parseChoice(reply: string, choices: number): ParsedChoice {
  const at = reply.lastIndexOf('</think>');
  const answer = at < 0 ? reply : reply.slice(at + '</think>'.length);
  const open = answer.indexOf('<s>');
  if (open < 0) return { ok: false, reason: 'no <s> tag in the answer', text: null };
  const close = answer.indexOf('</s>', open + 3);
  if (close < 0) return { ok: false, reason: 'no </s> after <s>', text: null };
  const text = answer.slice(open + 3, close);
  const match = /^_?choice_(\d+)$/.exec(text.trim());
  if (!match) return { ok: false, reason: `'${text.trim().slice(0, 40)}' is not a choice label`, text };
  const choice = Number(match[1]);
  if (choice < 1 || choice > choices)
    return { ok: false, reason: `choice_${choice} is not legal (1..${choices})`, text };
  return { ok: true, choice, text };
}
