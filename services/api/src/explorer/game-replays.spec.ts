import type { RecordedEvent } from '@recon/eventlog';
import {
  completeInfoGame,
  gtbenchTextGame,
  randomMove,
  runCompleteInfoTrial,
  runGtbenchMatch,
  scheduleMatches,
  ScriptedAgent,
  type GameEvent,
} from '@recon/games';
import { listMatches, matchReplay } from './game-replays';

const recorded = (events: GameEvent[]): RecordedEvent[] =>
  events.map((e, i) => ({ ...e, position: i + 1, tombstonedBy: null }) as unknown as RecordedEvent);

async function trial(matchId: string, replies: string[]): Promise<GameEvent[]> {
  const events: GameEvent[] = [];
  await runCompleteInfoTrial(completeInfoGame('Stag Hunt'), new ScriptedAgent('s', replies), {
    matchId,
    stage: 'sft',
    seed: 1,
    emit: (e) => void events.push(e),
  });
  return events;
}

describe('game replays', () => {
  it('lists finished matches filtered and paged, with the filter values the run has', async () => {
    const events = recorded([
      ...(await trial('r/a/0', ['<s>choice_1</s>'])),
      ...(await trial('r/a/1', ['<s>choice_2</s>', '<s>choice_1</s>'])),
    ]);
    const all = listMatches(events, {}, { offset: 0, limit: 10 });
    expect(all.total).toBe(2);
    expect(all.facets.outcome).toEqual(['equilibrium', 'non-equilibrium']);
    const page = listMatches(events, { outcome: 'non-equilibrium' }, { offset: 0, limit: 10 });
    expect(page.matches.map((m) => [m.matchId, m.moves])).toEqual([['r/a/1', 2]]);
    expect(listMatches(events, {}, { offset: 1, limit: 1 }).matches.map((m) => m.matchId)).toEqual(['r/a/1']);
  });

  it('says why a reply was invalid, shows the payoffs, and re-checks the outcome from the moves', async () => {
    const events = recorded(await trial('r/a/0', ['no tags here', '<s>choice_7</s>', '<s>choice_1</s>']));
    const replay = matchReplay(events, 'r/a/0')!;
    // The script cycles: Alice and then Bob each answer without tags, with an illegal choice, then choice_1.
    expect(replay.moves.map((m) => m.invalidReason)).toEqual([
      'no <s> tag in the answer',
      'choice_7 is not legal (1..2)',
      null,
      'no <s> tag in the answer',
      'choice_7 is not legal (1..2)',
      null,
    ]);
    expect(replay.payoffs).toContain('choice_1     3, 3');
    expect(replay.check).toEqual({ matches: true, recomputedOutcome: 'equilibrium', problem: null });
    expect(matchReplay(events, 'r/other')).toBeNull();
  });

  it('flags a match whose recorded move does not replay', async () => {
    const events = await trial('r/a/0', ['<s>choice_1</s>']);
    const move = events[0].payload as { action: number | null };
    move.action = 1; // the reply says choice_1 (action 0)
    const replay = matchReplay(recorded(events), 'r/a/0')!;
    expect(replay.check.matches).toBe(false);
    expect(replay.check.problem).toMatch(/recorded action 1 but the reply parses to 0/);
  });

  it('draws a tic-tac-toe board after each move, top row first', async () => {
    const events: GameEvent[] = [];
    const [match] = scheduleMatches('r', 42, 'tictactoe', 'random', 1);
    await runGtbenchMatch(
      gtbenchTextGame('tictactoe'),
      new ScriptedAgent('s', [
        '<C1R1>',
        '<C2R1>',
        '<C3R1>',
        '<C1R2>',
        '<C2R2>',
        '<C3R2>',
        '<C1R3>',
        '<C2R3>',
        '<C3R3>',
      ]),
      { name: 'random', move: randomMove },
      { match, stage: 'grpo', emit: (e) => void events.push(e), policy: { kind: 'reask', times: 9 } },
    );
    const replay = matchReplay(recorded(events), match.matchId)!;
    expect(replay.moves[0].stateAfter).toBe('x..\n...\n...');
    expect(replay.moves.at(-1)!.returnsAfter).toEqual(replay.finished.returns);
    expect(replay.check.matches).toBe(true);
    // The script names squares in order, so it meets one the opponent took: the parser's reason.
    expect(replay.moves.find((m) => !m.legal)?.invalidReason).toMatch(/^C\dR\d is not a free square$/);
  });
});
