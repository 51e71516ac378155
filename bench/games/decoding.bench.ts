/**
 * Free-form vs legal-move-constrained decoding of a small built-in policy in both game suites: the share of
 * agent replies that parse to a legal move, the share of trials / matches that end normally, and the wall
 * time per decision, each with its n. The policy is untrained, or briefly fine-tuned (`--sft-steps`) on
 * random legal replies so that free-form play is not all noise. Same seeds for both modes.
 * Run: npm run build && node dist/bench/games/decoding.bench.js [--trials 5] [--matches 4] [--sft-steps 0]
 *      [--max-tokens 64] [--backend auto]
 */
import { performance } from 'node:perf_hooks';
import {
  COMPLETE_INFO_GAMES,
  GTBENCH_TEXT_GAMES,
  createRng,
  nextDecision,
  randomMove,
  runCompleteInfoTrials,
  runGtbenchMatch,
  sampleOutcome,
  scheduleMatches,
  type Agent,
  type GameDecoding,
  type GameFinishedPayload,
  type GameState,
  type Observation,
} from '@recon/games';
import {
  SftTrainer,
  TransformerPolicy,
  isBackendName,
  selectBackend,
  trainTokenizer,
  type ByteBpeTokenizer,
  type TokenSequence,
} from '@recon/policy';
import { promptTokens } from '@recon/policy-runtime';
import { defaultPrompt } from '@recon/games';
import { PolicyAgent } from '../../services/evaluation/src/policy-agent';

const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? fallback : Number(process.argv[at + 1]);
};
const TRIALS = arg('trials', 5);
const MATCHES = arg('matches', 4);
const SFT_STEPS = arg('sft-steps', 0);
const MAX_TOKENS = arg('max-tokens', 64);
const backendArg = process.argv.includes('--backend') ? process.argv[process.argv.indexOf('--backend') + 1] : 'auto';
const CONTEXT = 256;
const REPLY_ROOM = 24;

/** Times each decision and counts them. */
class TimedAgent implements Agent {
  readonly name: string;
  constructor(
    private readonly inner: Agent,
    private readonly clock: { ms: number; decisions: number },
  ) {
    this.name = inner.name;
  }
  async act(observation: Observation): Promise<string> {
    const started = performance.now();
    const reply = await this.inner.act(observation);
    this.clock.ms += performance.now() - started;
    this.clock.decisions += 1;
    return reply;
  }
}

/** Decisions of random play in both suites: the prompts and their legal replies (tokenizer corpus, SFT data). */
function sampleDecisions(count: number, seed: number): Array<{ messages: Observation['messages']; replies: string[] }> {
  const rng = createRng(seed);
  const out: Array<{ messages: Observation['messages']; replies: string[] }> = [];
  while (out.length < count) {
    for (const game of COMPLETE_INFO_GAMES) {
      const made: number[] = [];
      for (let d = nextDecision(game, made); d; d = nextDecision(game, made)) {
        out.push({ messages: d.messages, replies: Array.from({ length: d.choices }, (_, k) => `<s>choice_${k + 1}</s>`) });
        made.push(1 + rng.int(d.choices));
      }
    }
    for (const { game } of GTBENCH_TEXT_GAMES) {
      let state: GameState = game.initialState();
      for (let turn = state.turn(), plies = 0; turn.kind !== 'terminal' && plies < 12; turn = state.turn(), plies++) {
        if (turn.kind === 'chance') state = state.apply(sampleOutcome(state.chanceOutcomes(), rng));
        else if (turn.kind === 'player') {
          const s = state;
          out.push({ messages: defaultPrompt(s, turn.player), replies: s.legalActions(turn.player).map((a) => s.actionToString(turn.player, a)) });
          state = state.apply(randomMove(state, turn.player, rng));
        } else {
          const s = state;
          state = s.applyJoint(turn.players.map((p) => randomMove(s, p, rng)));
        }
      }
    }
  }
  return out.slice(0, count);
}

function briefSft(model: TransformerPolicy, tokenizer: ByteBpeTokenizer, steps: number): number {
  const rng = createRng(7);
  const examples: TokenSequence[] = sampleDecisions(2000, 3).map(({ messages, replies }) => {
    const prompt = promptTokens(tokenizer, messages, CONTEXT, REPLY_ROOM).ids;
    const reply = tokenizer.encode(replies[rng.int(replies.length)]);
    return { tokens: [...prompt, ...reply, tokenizer.specialTokens.eos], completionStart: prompt.length };
  });
  const trainer = new SftTrainer(model, examples, {
    batchSize: 8,
    padId: tokenizer.specialTokens.pad,
    maxLength: CONTEXT,
    seed: 5,
    schedule: { type: 'constant', learningRate: 3e-3, totalSteps: steps, warmupSteps: 0 },
  });
  let loss = NaN;
  for (let step = 0; step < steps; step++) loss = trainer.trainStep().loss;
  return loss;
}

interface ModeReport {
  replies: number;
  validReplies: number;
  units: number;
  normalUnits: number;
  ms: number;
  decisions: number;
  msPerDecision: number;
  wins?: number;
  invalidExamples: string[];
}

function tally(finished: GameFinishedPayload[], moves: Array<{ legal: boolean; rawText?: string }>, clock: { ms: number; decisions: number }, suite: 'ci' | 'gt'): ModeReport {
  return {
    replies: moves.length,
    validReplies: moves.filter((m) => m.legal).length,
    units: finished.length,
    normalUnits: finished.filter((f) => (suite === 'ci' ? f.outcome !== 'invalid' : f.status === 'normal')).length,
    ms: Math.round(clock.ms),
    decisions: clock.decisions,
    msPerDecision: Math.round((clock.ms / Math.max(clock.decisions, 1)) * 10) / 10,
    ...(suite === 'gt' ? { wins: finished.filter((f) => f.outcome === 'win').length } : {}),
    invalidExamples: moves.filter((m) => !m.legal).slice(0, 2).map((m) => (m.rawText ?? '').slice(0, 80)),
  };
}

async function main(): Promise<void> {
  if (backendArg !== 'auto' && !isBackendName(backendArg)) throw new Error(`unknown backend ${backendArg}`);
  const backend = await selectBackend(backendArg as 'auto');
  const corpus = sampleDecisions(400, 1).flatMap((d) => [...d.messages.map((m) => m.content), ...d.replies]);
  const tokenizer = trainTokenizer({ corpus, vocabSize: 512 });
  const model = new TransformerPolicy({ vocabSize: tokenizer.vocabSize, dModel: 64, layers: 2, heads: 4, context: CONTEXT, seed: 1 });
  const loss = SFT_STEPS > 0 ? briefSft(model, tokenizer, SFT_STEPS) : null;
  const policy = { model, tokenizer, checkpointHash: 'bench'.padEnd(64, '0') };
  console.log(
    JSON.stringify({ backend: backend.name, trials: TRIALS, matches: MATCHES, sftSteps: SFT_STEPS, finalSftLoss: loss, maxTokens: MAX_TOKENS, model: model.config }),
  );
  const perDecision: Record<string, number> = {};
  for (const decoding of ['free', 'constrained'] as GameDecoding[]) {
    const agentFor = (clock: { ms: number; decisions: number }) => (seed: number) =>
      new TimedAgent(new PolicyAgent(policy, seed, { temperature: 0.6, maxTokens: MAX_TOKENS, decoding }), clock);
    // Complete information, Hua's re-ask protocol (5), as the default config plays it.
    const ciClock = { ms: 0, decisions: 0 };
    const ciMoves: Array<{ legal: boolean; rawText?: string }> = [];
    const ciFinished: GameFinishedPayload[] = [];
    for (const game of COMPLETE_INFO_GAMES)
      ciFinished.push(
        ...(await runCompleteInfoTrials(game, agentFor(ciClock), {
          runId: 'bench',
          runSeed: 42,
          trials: TRIALS,
          stage: 'bench',
          policy: { kind: 'reask', times: 5 },
          emit: (e) => void (e.type === 'game.move' && ciMoves.push(e.payload)),
          decoding,
        })),
      );
    const ci = tally(ciFinished, ciMoves, ciClock, 'ci');
    perDecision[`complete-info/${decoding}`] = ci.msPerDecision;
    console.log(JSON.stringify({ suite: 'complete-info', decoding, ...ci }));
    // GTBench against random, GTBench's Abnormal ending on an unparseable reply.
    const gtClock = { ms: 0, decisions: 0 };
    const perGame: Record<string, string> = {};
    const gtMoves: Array<{ legal: boolean; rawText?: string }> = [];
    const gtFinished: GameFinishedPayload[] = [];
    for (const textGame of GTBENCH_TEXT_GAMES) {
      const cell: GameFinishedPayload[] = [];
      for (const match of scheduleMatches('bench', 42, textGame.game.name, 'random', MATCHES)) {
        cell.push(
          await runGtbenchMatch(textGame, agentFor(gtClock)(match.seed), { name: 'random', move: randomMove }, {
            match,
            stage: 'bench',
            emit: (e) => void (e.type === 'game.move' && e.payload.actor === 'agent' && gtMoves.push(e.payload)),
            decoding,
          }),
        );
      }
      gtFinished.push(...cell);
      perGame[textGame.game.name] =
        `${cell.filter((f) => f.outcome === 'win').length}W/${cell.filter((f) => f.status === 'normal').length}N/${cell.length}`;
    }
    const gt = tally(gtFinished, gtMoves, gtClock, 'gt');
    perDecision[`gtbench/${decoding}`] = gt.msPerDecision;
    console.log(JSON.stringify({ suite: 'gtbench-vs-random', decoding, ...gt, perGame }));
  }
  const ratio = (suite: string) => Math.round((perDecision[`${suite}/constrained`] / perDecision[`${suite}/free`]) * 100) / 100;
  console.log(JSON.stringify({ constrainedOverFreeTimePerDecision: { 'complete-info': ratio('complete-info'), gtbench: ratio('gtbench') } }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
