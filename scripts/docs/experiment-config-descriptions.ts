/**
 * What each key of an experiment config means, for docs/configuration.md. Types, allowed values, bounds and
 * defaults are read from the zod schema (libs/experiment/src/experiment-config.ts); only the meaning is
 * written here. Keys are paths as the reference shows them; a variant of a union is named in parentheses
 * (`policy(builtin).dModel`), a list's items by `[]`. A test fails when a schema key has no entry here or an
 * entry names no key.
 */
export const EXPERIMENT_CONFIG_DESCRIPTIONS: Record<string, string> = {
  name: 'the experiment name; run ids default to `<name>-<random>`',
  seed: 'seeds every draw of the run (curriculum, data order, weights, sampling, games); `recon run --seed` overrides it',
  datasets: 'where training and evaluation data come from: at least one of `curriculum` and `recon`',
  'datasets.curriculum':
    'generated problems with solver gold and a trace that earns the full paper reward; train and test split by a hash of the underlying game',
  'datasets.curriculum.style': "`compact` items fit 256 tokens; `paper` follows the Recon datasets' wording",
  'datasets.curriculum.categories':
    'problem categories to generate (default the eight econ ones: pure_nash, dominant_strategy, backward_induction, trigger, expected_value, discounting, condorcet, bayes_nash; game_simultaneous and game_sequential by name only); an unknown name is refused before the run starts',
  'datasets.curriculum.trainItems': 'generated training problems (SFT traces and GRPO prompts)',
  'datasets.curriculum.testItems': 'generated held-out problems',
  'datasets.curriculum.gameTrainItems':
    "game-format train items (the complete-information games' exact prompts on generated games, answered `<s>choice_k</s>`), half simultaneous and half sequential; absent: none",
  'datasets.curriculum.grpoItems':
    "GRPO problems of their own, none of them an SFT row (the paper's GRPO set is not its SFT set): this many more items of the same categories, plus games in gameTrainItems' proportion; the SFT rows stay the same; absent: GRPO prompts come from the SFT rows' problems",
  'datasets.recon':
    'the Recon CSVs: SFT on Recon-CoT (traces cut to the context), GRPO on the train set, Recon-Eval graded per tagged category; with `curriculum` too, both sources are trained on and both eval sets evaluated',
  'datasets.recon.path':
    'directory holding the files (e.g. `../shared/recon-data`); checked to exist before the run starts',
  'datasets.recon.train': 'GRPO problems file in `path`',
  'datasets.recon.eval': 'Recon-Eval file in `path`',
  'datasets.recon.sft': 'Recon-CoT SFT traces file in `path`',
  policy: 'the policy to train and evaluate, chosen by `kind`',
  'policy(builtin).kind': 'the built-in GPT-2-layout transformer (libs/policy), trained from scratch',
  'policy(builtin).dModel': 'model width; must be divisible by `nHeads`',
  'policy(builtin).nLayers': 'transformer blocks',
  'policy(builtin).nHeads': 'attention heads per block',
  'policy(builtin).contextLength': 'longest prompt + completion in tokens (learned positions)',
  'policy(builtin).vocabSize': 'vocabulary of the model (the tokenizer is trained to `tokenizer.vocabSize`)',
  'policy(builtin).positional': 'position encoding',
  'policy(builtin).tieEmbeddings': 'share the input embedding and the output head',
  'policy(builtin).backend':
    'numeric backend: the first that loads of tensorflow-gpu, tensorflow, wasm-openblas (wasm with OpenBLAS matmuls), wasm, cpu (`auto`), or exactly the one named; recorded in `policy.initialised`',
  'policy(builtin).workers':
    'worker threads that train and sample the policy (`RECON_POLICY_WORKERS` overrides); `auto` (what absent means) is one per core, at most two. Results do not depend on it',
  'policy(openai).kind':
    'an OpenAI-compatible chat server, evaluated as `recon eval` does: nothing is trained, so `sft`, `grpo` and `datasets.curriculum` are refused',
  'policy(openai).baseUrl': "the server's base URL, e.g. `http://127.0.0.1:8000/v1`",
  'policy(openai).model': 'the model name sent with every request',
  'policy(openai).apiKeyEnv':
    'environment variable holding the bearer token (never recorded); an unset variable is refused before the run starts',
  'policy(openai).concurrency': 'requests in flight at most',
  'policy(openai).timeoutMs': 'timeout of one request',
  'policy(openai).retries':
    'retries after the first attempt (timeouts, network errors, 408/429/5xx, malformed bodies)',
  'policy(pretrained).kind':
    'a local Hugging Face checkpoint (Llama or Qwen2 family) trained with LoRA SFT (libs/pretrained); its directory is recorded by content hash (docs/policy.md); no grpo or game suites yet',
  'policy(pretrained).path':
    'directory holding config.json, *.safetensors, tokenizer.json and tokenizer_config.json',
  'policy(pretrained).lora': 'the LoRA adapters trained on the frozen base weights',
  'policy(pretrained).lora.rank': 'adapter rank',
  'policy(pretrained).lora.alpha': 'adapter scaling (alpha / rank)',
  'policy(pretrained).lora.dropout': 'adapter dropout; values above 0 are not supported yet',
  'policy(pretrained).lora.targets': "projections that get adapters (PEFT's module names)",
  'policy(pretrained).backend': 'numeric backend, as for the built-in policy',
  'policy(pretrained).context':
    "longest prompt + completion to run (absent: the checkpoint's max_position_embeddings)",
  tokenizer: "the byte-level BPE tokenizer trained deterministically on the run's corpus",
  'tokenizer.vocabSize': 'vocabulary size; at least 264 (256 bytes + 8 special tokens)',
  'tokenizer.pretokenizer':
    "`words` (what absent means): merges stay inside words. `phrases`: merges may cross spaces and only digit runs are cut, so templated prompts (the games' rule lines) take several times fewer tokens",
  sft: 'supervised fine-tuning on the SFT traces; absent: no SFT stage',
  'sft.steps': 'optimiser steps',
  'sft.batchSize': 'sequences per step',
  'sft.gradientAccumulation': 'micro-batches summed per optimiser step',
  'sft.learningRate': 'peak learning rate (AdamW)',
  'sft.schedule': 'learning-rate schedule after warm-up',
  'sft.warmupSteps': 'linear warm-up steps',
  'sft.weightDecay': 'AdamW weight decay',
  'sft.maxGradNorm': 'gradient clipping by global norm',
  'sft.lora': 'train LoRA adapters (on the built-in policy) instead of every weight',
  'sft.lora.rank': 'adapter rank',
  'sft.lora.alpha': 'adapter scaling (alpha / rank)',
  'sft.lora.targets': 'layers that get adapters: attention q/k/v/o, MLP up/down',
  'sft.lengthGroupWindow':
    "batches of similar length, grouped over windows of this many steps (a batch pads to its own rows' length); absent: plain shuffled batches",
  'sft.partition':
    "how each batch is cut into the compute workers' two parts: `balanced` sorts the batch's rows by length and cuts where both parts cost about the same (rows x padded length x (padded length + 360)), so the part holding the longest rows holds fewer of them and neither worker waits long for the other; `contiguous` or absent: consecutive rows, as every run recorded before the option (they replay unchanged). The two differ in the numbers only by the float rounding of the summed gradients; the parts, not the worker count, decide them",
  grpo: "GRPO after SFT under the run's rewards (TRL GRPOTrainer semantics); absent: no GRPO stage",
  'grpo.steps': 'optimiser steps; each requests rollouts for `promptsPerStep` prompts',
  'grpo.promptsPerStep': 'prompts per step',
  'grpo.numGenerations': 'completions per prompt (the group size G)',
  'grpo.gradientAccumulation':
    "micro-batches per optimiser step: the step's promptsPerStep x numGenerations completions are cut into this many equal parts, their gradients summed (TRL's gradient_accumulation_steps); must divide promptsPerStep x numGenerations",
  'grpo.learningRate': 'peak learning rate (AdamW)',
  'grpo.schedule': 'learning-rate schedule after warm-up',
  'grpo.warmupRatio': 'share of the steps spent warming up',
  'grpo.adamBetas': 'AdamW betas',
  'grpo.weightDecay': 'AdamW weight decay',
  'grpo.maxGradNorm': 'gradient clipping by global norm',
  'grpo.beta': 'KL coefficient against the reference (SFT) policy; 0 drops the KL term',
  'grpo.epsilon': 'clipping range of the probability ratio',
  'grpo.epsilonHigh': "upper clipping bound (DAPO's clip-higher); at least `epsilon`; absent: `epsilon`",
  'grpo.lossType': "how the per-token loss is aggregated, as TRL's loss_type",
  'grpo.scaleRewards': "advantages divided by the group's reward std, the batch's, or not at all",
  'grpo.numIterations': "updates per batch of rollouts (TRL's num_iterations)",
  'grpo.temperature': 'sampling temperature of the rollouts',
  'grpo.topP': 'nucleus sampling of the rollouts',
  'grpo.topK': 'top-k sampling of the rollouts; 0 = off',
  'grpo.maxCompletionTokens': 'longest rollout completion in tokens',
  'grpo.lora': 'train LoRA adapters (on the built-in policy) instead of every weight',
  'grpo.lora.rank': 'adapter rank',
  'grpo.lora.alpha': 'adapter scaling (alpha / rank)',
  'grpo.lora.targets': 'layers that get adapters: attention q/k/v/o, MLP up/down',
  'grpo.rolloutShards':
    "shards a step's rollout work is split into (at most promptsPerStep), each its own Kafka key, so that many rollout workers generate one step in parallel",
  'grpo.partition':
    "as `sft.partition`, for each GRPO micro-batch's completions (prompt plus completion length): with `balanced`, a group of ~400-token game prompts no longer pads the short completions that would share its part (recon-mini's GRPO phase: 122 s to 90 s)",
  'grpo.rewardWaitSeconds':
    'how long training waits for every named reward service to register before it fails the run naming the missing ones',
  rewards:
    "the reward services that score the run's rollouts, combined by weight (TRL's reward_weights); each must be served by the built-in reward service, a `--reward-plugin` / `RECON_REWARD_PLUGINS` module, or a registered deployable",
  'rewards[].id': 'reward id (e.g. `recon-hierarchical`, `concise-correct`); each id once',
  'rewards[].version': 'reward version; absent: any registered version',
  'rewards[].weight': 'weight of its total in the combined reward',
  evaluation: 'what is evaluated at each stage',
  'evaluation.stages':
    'stages evaluated; must include the last stage the config trains (`grpo` with a `grpo` section, else `sft`) and name only stages it trains; to evaluate the untrained policy alone, leave out `sft` and `grpo`',
  'evaluation.heldOut':
    "the generated held-out problems (or Recon-Eval's first N rows for an external model)",
  'evaluation.heldOut.items': 'items evaluated',
  'evaluation.heldOut.temperature': 'sampling temperature (0: greedy)',
  'evaluation.reconEval': "Recon-Eval, graded with the paper's grader per tagged category",
  'evaluation.reconEval.temperature': 'sampling temperature (0: greedy)',
  'evaluation.reconEval.items':
    'rows evaluated, a seeded draw stratified by category; absent: `heldOut.items`, else all',
  'evaluation.completeInformation':
    'the 10 complete-information games (Hua et al.) in self-play; present = the suite runs',
  'evaluation.completeInformation.trials': 'self-play trials per game',
  'evaluation.completeInformation.temperature': 'sampling temperature of the replies',
  'evaluation.completeInformation.reasks':
    "re-ask an unparseable reply up to this many times (Hua et al.'s protocol correction)",
  'evaluation.completeInformation.maxNewTokens':
    'completion budget per decision; absent: `evaluation.maxNewTokens`',
  'evaluation.completeInformation.decoding':
    "`free` sampling (what absent means), `constrained` to the legal moves' reply texts, or `both` (free-form for the valid-move rate, constrained for NE rates; each result labelled)",
  'evaluation.gtbench': 'the 10 GTBench games against opponents; present = the suite runs',
  'evaluation.gtbench.matches': 'matches per game and opponent',
  'evaluation.gtbench.temperature': 'sampling temperature of the replies',
  'evaluation.gtbench.opponents':
    'opponents, each a built-in engine by name or an object (an LLM or a checkpoint, below); names must be distinct',
  'evaluation.gtbench.opponents[]':
    'a built-in engine: `random`, `mcts` (UCT, reads the true state as GTBench does), `mcts-fair` (searches over draws from its information set), `tit-for-tat`',
  'evaluation.gtbench.opponents[](openai).kind':
    "an OpenAI-compatible model; every request is recorded on the run's stream as external evaluation records them",
  'evaluation.gtbench.opponents[](openai).name': 'how results and reports name it; default `openai:<model>`',
  'evaluation.gtbench.opponents[](openai).baseUrl': "the server's base URL",
  'evaluation.gtbench.opponents[](openai).model': 'the model name sent with every request',
  'evaluation.gtbench.opponents[](openai).apiKeyEnv':
    'environment variable holding the API key, read where the evaluation runs (never recorded)',
  'evaluation.gtbench.opponents[](openai).temperature': "sampling temperature (GTBench's LLM setting)",
  'evaluation.gtbench.opponents[](openai).maxTokens': "max_tokens of every request (GTBench's LLM setting)",
  'evaluation.gtbench.opponents[](openai).concurrency':
    'requests in flight at most (an external evaluation plays matches concurrently; a run, one at a time)',
  'evaluation.gtbench.opponents[](openai).timeoutMs': 'timeout of one request',
  'evaluation.gtbench.opponents[](openai).retries':
    'retries after the first attempt (timeouts, network errors, 408/429/5xx, malformed bodies)',
  'evaluation.gtbench.opponents[](openai).minBackoffMs': 'first backoff delay of a retry; doubles each retry',
  'evaluation.gtbench.opponents[](checkpoint).kind':
    'a built-in checkpoint: a stage of this run (each pair of stages plays once, the later as the evaluated agent) or of another run in the same home',
  'evaluation.gtbench.opponents[](checkpoint).name':
    'how results and reports name it; default `checkpoint:<stage>`, or `checkpoint:<run>/<stage>`',
  'evaluation.gtbench.opponents[](checkpoint).run': 'another run of the same home; absent: this run',
  'evaluation.gtbench.opponents[](checkpoint).stage': 'the stage whose checkpoint plays',
  'evaluation.gtbench.opponents[](checkpoint).temperature':
    "sampling of its replies; absent: the suite's temperature",
  'evaluation.gtbench.opponents[](checkpoint).maxNewTokens':
    "completion budget of its replies; absent: the suite's",
  'evaluation.gtbench.games':
    "the games to play, each once (all ten when absent), in GTBench's order whatever the order here",
  'evaluation.gtbench.invalidPolicy':
    'an unparseable move ends the match as abnormal (GTBench), forfeits it, or is re-asked `reasks` times',
  'evaluation.gtbench.reasks': 're-asks per decision when `invalidPolicy` is `reask`',
  'evaluation.gtbench.maxNewTokens': 'completion budget per move; absent: `evaluation.maxNewTokens`',
  'evaluation.gtbench.decoding': 'as `completeInformation.decoding`',
  'evaluation.maxNewTokens':
    'completion budget of every evaluation reply unless a suite sets its own (external models: the only budget)',
};
