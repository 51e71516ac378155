"""Writes the tiny random Llama and Qwen2 checkpoints under libs/pretrained/fixtures and their reference outputs.

Run once, by hand, when the fixtures need to change (CI reads the committed files and needs no Python):

    python3 -m venv /tmp/hfvenv && /tmp/hfvenv/bin/pip install torch transformers tokenizers safetensors
    /tmp/hfvenv/bin/python libs/pretrained/reference/make_tiny_checkpoints.py

Each checkpoint is written by transformers' own save_pretrained (the exact Hugging Face layout), its
weights rounded to the stored dtype (fp16 for Llama, bf16 for Qwen2) so that float32 reference outputs
and our float32 load see the same numbers. Reference outputs come from transformers and are cross-checked
against the independent few-dozen-line PyTorch forward pass of torch_forward.py (reference_forward).
"""

import json
import os
import sys

import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import (LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast, Qwen2Config,
                          Qwen2ForCausalLM)

from torch_forward import reference_forward

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'fixtures')

CORPUS = [
    'The buyer offers 40 and the seller asks 55; they split the difference at 47.5.',
    'In the prisoner\'s dilemma both players defect: the Nash equilibrium is (D, D).',
    'A monopolist sets marginal revenue equal to marginal cost and charges a markup.',
    'Player 1 chooses choice_1 or choice_2; the payoff matrix is common knowledge.',
    'Expected utility: 0.3 * 100 + 0.7 * 20 = 44. Answer: <s>choice_1</s>',
    'Think step by step about supply, demand, prices and the equilibrium quantity.',
] * 4

SPECIALS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>', '<|begin_of_text|>']

CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
LLAMA_STYLE = (
    "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'system' %}[SYS] {{ message['content'] | trim }}\n"
    "{% else %}<|im_start|>{{ message['role'] }}: {{ message['content'] | trim }}<|im_end|>{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant: {% endif %}"
)

MESSAGES = [
    {'role': 'system', 'content': 'You are an economist.'},
    {'role': 'user', 'content': 'The buyer offers 40. What is the equilibrium?'},
]


def train_tokenizer():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=320, special_tokens=SPECIALS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(CORPUS, trainer)
    return tok


def rounded(model, dtype):
    """Rounds every weight to dtype and back, so the float32 model holds exactly what the file stores."""
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.to(dtype).to(torch.float32))
    return model


def randomise(model, seed):
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith('norm.weight'):
                p.copy_(1 + 0.1 * torch.randn_like(p))
            else:
                p.copy_(0.2 * torch.randn_like(p))
    return model


def greedy_with_cache(model, prompt, steps):
    """Greedy decoding through transformers' KV cache; returns tokens and the smallest top-1/top-2 gap."""
    out, gap, past = [], float('inf'), None
    ids = torch.tensor([prompt])
    with torch.no_grad():
        for _ in range(steps):
            result = model(input_ids=ids, past_key_values=past, use_cache=True)
            past = result.past_key_values
            logits = result.logits[0, -1]
            top = torch.topk(logits, 2).values
            gap = min(gap, float(top[0] - top[1]))
            token = int(logits.argmax())
            out.append(token)
            ids = torch.tensor([[token]])
    return out, gap


def build(name, config, model_cls, dtype, seed, tokenizer_obj, template, template_in_config, shard):
    directory = os.path.join(OUT, name)
    os.makedirs(directory, exist_ok=True)
    for f in os.listdir(directory):
        os.remove(os.path.join(directory, f))
    model = rounded(randomise(model_cls(config), seed), dtype).eval()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tokenizer_obj, bos_token='<|begin_of_text|>',
                                        eos_token='<|im_end|>', pad_token='<|endoftext|>', chat_template=template)
    chat_text = tokenizer.apply_chat_template(MESSAGES, tokenize=False, add_generation_prompt=True)
    chat_ids = tokenizer(chat_text, add_special_tokens=False)['input_ids']
    sample = 'Expected utility of choice_2: 0.5 * 60 = 30.'
    sample_ids = tokenizer(sample, add_special_tokens=False)['input_ids']

    seqs = torch.tensor([chat_ids[:12], (sample_ids * 2)[:12]])
    with torch.no_grad():
        logits = model(input_ids=seqs).logits.float()
    cfg = {
        'hidden_size': config.hidden_size, 'head_dim': config.hidden_size // config.num_attention_heads,
        'num_attention_heads': config.num_attention_heads, 'num_key_value_heads': config.num_key_value_heads,
        'rms_norm_eps': config.rms_norm_eps, 'num_hidden_layers': config.num_hidden_layers,
        'tie_word_embeddings': config.tie_word_embeddings, 'rope_theta': ROPE[name]['theta'],
        'rope_scaling': ROPE[name]['scaling'],
    }
    ours = reference_forward(cfg, {k: v.float() for k, v in model.state_dict().items()}, seqs)
    diff = float((ours - logits).abs().max())
    print(f'{name}: independent reference vs transformers max |diff| = {diff:.2e}')
    assert diff < 1e-4, 'the independent reference forward disagrees with transformers'
    greedy, gap = greedy_with_cache(model, chat_ids, 10)
    print(f'{name}: greedy {greedy}, smallest top-1/top-2 gap {gap:.3f}')
    assert gap > 1e-2, 'greedy decoding has a near tie; pick another seed'

    model.to(dtype).save_pretrained(directory, max_shard_size=shard)
    tokenizer.save_pretrained(directory)
    config_file = os.path.join(directory, 'tokenizer_config.json')
    jinja_file = os.path.join(directory, 'chat_template.jinja')
    if template_in_config and os.path.exists(jinja_file):
        with open(config_file) as f:
            tokenizer_config = json.load(f)
        tokenizer_config['chat_template'] = template
        with open(config_file, 'w') as f:
            json.dump(tokenizer_config, f, indent=2)
        os.remove(jinja_file)
    tensors = {'logits': logits.contiguous()}
    save_file(tensors, os.path.join(OUT, f'{name}.reference.safetensors'))
    return {
        'inputIds': seqs.tolist(), 'promptIds': chat_ids, 'greedy': greedy,
        'messages': MESSAGES, 'chatText': chat_text, 'sample': sample, 'sampleIds': sample_ids,
    }


ROPE = {
    'tiny-llama': {'theta': 10000.0, 'scaling': {'rope_type': 'llama3', 'factor': 4.0, 'low_freq_factor': 1.0,
                                                'high_freq_factor': 4.0, 'original_max_position_embeddings': 64}},
    'tiny-qwen2': {'theta': 1000000.0, 'scaling': {'rope_type': 'linear', 'factor': 2.0}},
}


def main():
    tok = train_tokenizer()
    vocab = tok.get_vocab_size()
    common = dict(hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=2, max_position_embeddings=256, rms_norm_eps=1e-6)
    llama = LlamaConfig(vocab_size=vocab, tie_word_embeddings=False, rope_theta=ROPE['tiny-llama']['theta'],
                        rope_scaling=ROPE['tiny-llama']['scaling'], bos_token_id=tok.token_to_id('<|begin_of_text|>'),
                        eos_token_id=tok.token_to_id('<|im_end|>'), **common)
    # Qwen2's vocabulary is padded past the tokenizer's, as the real ones are.
    qwen = Qwen2Config(vocab_size=vocab + 16, tie_word_embeddings=True, rope_theta=ROPE['tiny-qwen2']['theta'],
                       rope_scaling=ROPE['tiny-qwen2']['scaling'], eos_token_id=tok.token_to_id('<|im_end|>'),
                       use_sliding_window=False, **common)
    reference = {
        'tiny-llama': build('tiny-llama', llama, LlamaForCausalLM, torch.float16, 7, tok, LLAMA_STYLE, True, '10GB'),
        'tiny-qwen2': build('tiny-qwen2', qwen, Qwen2ForCausalLM, torch.bfloat16, 13, tok, CHATML, False, '60KB'),
    }
    with open(os.path.join(OUT, 'reference.json'), 'w') as f:
        json.dump(reference, f, indent=1)
    print('wrote', os.path.abspath(OUT))


if __name__ == '__main__':
    sys.exit(main())
