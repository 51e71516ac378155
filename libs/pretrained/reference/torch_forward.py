"""An independent Llama/Qwen2 forward pass in a few dozen lines of PyTorch, from the config and the state dict.

make_tiny_checkpoints.py checks transformers against it; merged_reference.py runs it on a merged export
(where transformers may not be installed); lora_reference.py runs it with LoRA adapters through `adapt`.
"""
import math

import torch


def inverse_frequencies(cfg):
    d = cfg['head_dim']
    inv = 1.0 / (cfg['rope_theta'] ** (torch.arange(0, d, 2, dtype=torch.float32) / d))
    scaling = cfg.get('rope_scaling') or {}
    kind = scaling.get('rope_type', scaling.get('type'))
    if kind == 'linear':
        return inv / scaling['factor']
    if kind == 'llama3':
        factor, low, high = scaling['factor'], scaling['low_freq_factor'], scaling['high_freq_factor']
        old = scaling['original_max_position_embeddings']
        wavelen = 2 * math.pi / inv
        out = torch.where(wavelen > old / low, inv / factor, inv)
        smooth = (old / wavelen - low) / (high - low)
        blended = (1 - smooth) * out / factor + smooth * out
        medium = (wavelen >= old / high) & (wavelen <= old / low)
        return torch.where(medium, blended, out)
    return inv


def reference_forward(cfg, w, ids, adapt=None):
    """logits [B,T,V] for ids [B,T]; w: HF state dict (float32, or float64 for a float64 pass).

    adapt(module, x), if given, is called for every linear projection (its HF module path, e.g.
    'model.layers.0.self_attn.q_proj', and its input) and returns a term added to its output, or None.
    """
    b, t = ids.shape
    h_, d, nh, nkv = cfg['hidden_size'], cfg['head_dim'], cfg['num_attention_heads'], cfg['num_key_value_heads']
    eps = cfg['rms_norm_eps']

    def rms(x, weight):
        return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))

    def lin(x, name):
        y = x @ w[name + '.weight'].T
        y = y + w[name + '.bias'] if name + '.bias' in w else y
        delta = adapt(name, x) if adapt else None
        return y if delta is None else y + delta

    angles = torch.arange(t, dtype=torch.float32)[:, None] * inverse_frequencies(cfg)[None, :]
    cos, sin = torch.cat([angles, angles], -1).cos(), torch.cat([angles, angles], -1).sin()

    def rope(x):  # [B, heads, T, d]
        x1, x2 = x[..., : d // 2], x[..., d // 2:]
        return x * cos + torch.cat([-x2, x1], -1) * sin

    x = w['model.embed_tokens.weight'][ids]
    causal = torch.full((t, t), float('-inf')).triu(1)
    for i in range(cfg['num_hidden_layers']):
        p = f'model.layers.{i}'
        h = rms(x, w[p + '.input_layernorm.weight'])
        q = rope(lin(h, p + '.self_attn.q_proj').view(b, t, nh, d).transpose(1, 2))
        k = rope(lin(h, p + '.self_attn.k_proj').view(b, t, nkv, d).transpose(1, 2))
        v = lin(h, p + '.self_attn.v_proj').view(b, t, nkv, d).transpose(1, 2)
        k, v = k.repeat_interleave(nh // nkv, 1), v.repeat_interleave(nh // nkv, 1)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d) + causal, -1) @ v
        x = x + lin(att.transpose(1, 2).reshape(b, t, nh * d), p + '.self_attn.o_proj')
        h = rms(x, w[p + '.post_attention_layernorm.weight'])
        x = x + lin(torch.nn.functional.silu(lin(h, p + '.mlp.gate_proj')) * lin(h, p + '.mlp.up_proj'), p + '.mlp.down_proj')
    x = rms(x, w['model.norm.weight'])
    head = w['model.embed_tokens.weight'] if cfg['tie_word_embeddings'] else w['lm_head.weight']
    return x @ head.T


def forward_config(config):
    """The cfg reference_forward reads, from a Hugging Face config.json (transformers 4 or 5 rope keys)."""
    rope = dict(config.get('rope_parameters') or {})
    theta = config.get('rope_theta', rope.pop('rope_theta', None))
    scaling = config.get('rope_scaling') or (rope if rope.get('rope_type', 'default') != 'default' else None)
    return {
        'hidden_size': config['hidden_size'],
        'head_dim': config.get('head_dim') or config['hidden_size'] // config['num_attention_heads'],
        'num_attention_heads': config['num_attention_heads'],
        'num_key_value_heads': config.get('num_key_value_heads', config['num_attention_heads']),
        'rms_norm_eps': config['rms_norm_eps'],
        'num_hidden_layers': config['num_hidden_layers'],
        'tie_word_embeddings': config.get('tie_word_embeddings', False),
        'rope_theta': theta,
        'rope_scaling': scaling,
    }
