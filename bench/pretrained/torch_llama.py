"""PyTorch side of bench/pretrained: a self-contained Llama (RMSNorm, rotary positions, grouped-query
attention, SwiGLU, tied or untied head) with LoRA on chosen projections, its weights read from the same
safetensors file as ours (no transformers, no safetensors package). Eager float32 on the CPU.

Run with Debian's interpreter: /usr/bin/python3 torch_llama.py '<json>'. Modes:
- {"mode": "logits", "dir", "ids": [[...]], "out"}: writes the logits [B, T, V] as raw float32 to `out`;
- {"mode": "bench", ...}: forward, KV-cache generation and LoRA training tokens/s and peak RSS per stage;
  prints one JSON line.
"""
import json
import math
import os
import resource
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from torch_matmul import matmul_gflops  # noqa: E402  (bench/torch_matmul.py, shared with bench/policy)


def read_safetensors(path):
    """Every tensor of a float32 safetensors file, read one at a time at its offset."""
    with open(path, 'rb') as f:
        (length,) = struct.unpack('<Q', f.read(8))
        header = json.loads(f.read(length))
    start = 8 + length
    tensors = {}
    for name, entry in header.items():
        if name == '__metadata__':
            continue
        if entry['dtype'] != 'F32':
            raise SystemExit(f'{path}: tensor {name} is {entry["dtype"]}; this reader takes F32 only')
        begin, end = entry['data_offsets']
        values = np.fromfile(path, dtype=np.float32, count=(end - begin) // 4, offset=start + begin)
        tensors[name] = torch.from_numpy(values).reshape(entry['shape'])
    return tensors


class Llama:
    def __init__(self, directory, lora=None, seed=0):
        with open(os.path.join(directory, 'config.json')) as f:
            c = json.load(f)
        if c.get('rope_scaling') or c.get('rope_parameters'):
            raise SystemExit(f'{directory}: rope scaling is not implemented here')
        self.heads = c['num_attention_heads']
        self.kv_heads = c.get('num_key_value_heads', self.heads)
        self.head_dim = c.get('head_dim') or c['hidden_size'] // self.heads
        self.layers = c['num_hidden_layers']
        self.eps = c['rms_norm_eps']
        self.w = read_safetensors(os.path.join(directory, 'model.safetensors'))
        self.head = self.w['model.embed_tokens.weight'] if c.get('tie_word_embeddings') else self.w['lm_head.weight']
        # As libs/pretrained/src/rope.ts: 1/theta^(2i/d) in double precision, then float32.
        d = self.head_dim
        theta = c.get('rope_theta', 10000.0)
        self.inv_freq = torch.tensor([1 / theta ** (2 * i / d) for i in range(d // 2)], dtype=torch.float64).float()
        self.lora = {}
        self.scale = 0.0
        if lora:
            # A uniform in ±1/sqrt(in) (PEFT's kaiming bound), B zero: training starts from the base model.
            g = torch.Generator().manual_seed(seed)
            self.scale = lora['alpha'] / lora['rank']
            for layer in range(self.layers):
                for target in lora['targets']:
                    name = self.module(layer, target)
                    out_features, in_features = self.w[f'{name}.weight'].shape
                    bound = 1 / math.sqrt(in_features)
                    a = (torch.rand(in_features, lora['rank'], generator=g) * 2 - 1) * bound
                    self.lora[name] = (a.requires_grad_(), torch.zeros(lora['rank'], out_features, requires_grad=True))

    @staticmethod
    def module(layer, projection):
        block = 'mlp' if projection in ('gate_proj', 'up_proj', 'down_proj') else 'self_attn'
        return f'model.layers.{layer}.{block}.{projection}'

    def parameters(self):
        return [t for pair in self.lora.values() for t in pair]

    def linear(self, x, name):
        out = F.linear(x, self.w[f'{name}.weight'], self.w.get(f'{name}.bias'))
        if name in self.lora:
            a, b = self.lora[name]
            out = out + (x @ a @ b) * self.scale
        return out

    def rms(self, x, name):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.w[name]

    def rope(self, x, positions):
        angles = positions.float()[:, None] * self.inv_freq[None, :]
        full = torch.cat([angles, angles], -1)
        cos, sin = full.cos(), full.sin()
        x1, x2 = x[..., : self.head_dim // 2], x[..., self.head_dim // 2 :]
        return x * cos + torch.cat([-x2, x1], -1) * sin

    def forward(self, ids, start=0, caches=None):
        """Logits [B, n, V] of n new tokens at positions start.. (caches: one [k, v] per layer, extended)."""
        b, n = ids.shape
        positions = torch.arange(start, start + n)
        x = F.embedding(ids, self.w['model.embed_tokens.weight'])
        group = self.heads // self.kv_heads
        for i in range(self.layers):
            p = f'model.layers.{i}'
            h = self.rms(x, f'{p}.input_layernorm.weight')
            q = self.linear(h, self.module(i, 'q_proj')).view(b, n, self.heads, self.head_dim).transpose(1, 2)
            k = self.linear(h, self.module(i, 'k_proj')).view(b, n, self.kv_heads, self.head_dim).transpose(1, 2)
            v = self.linear(h, self.module(i, 'v_proj')).view(b, n, self.kv_heads, self.head_dim).transpose(1, 2)
            q, k = self.rope(q, positions), self.rope(k, positions)
            if caches is not None:
                if caches[i]:
                    k = torch.cat([caches[i][0], k], 2)
                    v = torch.cat([caches[i][1], v], 2)
                caches[i] = [k, v]
            s = k.shape[2]
            k, v = k.repeat_interleave(group, 1), v.repeat_interleave(group, 1)
            scores = (q @ k.transpose(-1, -2)) / math.sqrt(self.head_dim)
            mask = torch.ones(n, s, dtype=torch.bool).tril(s - n)
            attended = (scores.masked_fill(~mask, float('-inf')).softmax(-1) @ v).transpose(1, 2).reshape(b, n, -1)
            x = x + self.linear(attended, self.module(i, 'o_proj'))
            h2 = self.rms(x, f'{p}.post_attention_layernorm.weight')
            gated = F.silu(self.linear(h2, self.module(i, 'gate_proj'))) * self.linear(h2, self.module(i, 'up_proj'))
            x = x + self.linear(gated, self.module(i, 'down_proj'))
        return self.rms(x, 'model.norm.weight') @ self.head.T


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(f, repeats):
    f()
    t = time.perf_counter()
    for _ in range(repeats):
        f()
    return (time.perf_counter() - t) / repeats


def bench(args):
    out = {'threads': torch.get_num_threads(), 'matmulGflops': matmul_gflops(), 'peakRssMb': {}}
    t = time.perf_counter()
    model = Llama(args['dir'], args['lora'], seed=1)
    out['loadSeconds'] = time.perf_counter() - t
    out['peakRssMb']['load'] = peak_rss_mb()
    with torch.no_grad():
        ids = torch.tensor(args['checkIds'])
        out['checkLogits'] = args['checkOut']
        model.forward(ids).numpy().astype(np.float32).tofile(args['checkOut'])
        fwd = args['forward']
        if fwd['repeats'] > 0:
            ids = torch.tensor(fwd['ids'])
            seconds = timed(lambda: model.forward(ids), fwd['repeats'])
            out['forwardTokensPerSecond'] = ids.numel() / seconds
            out['peakRssMb']['forward'] = peak_rss_mb()
        gen = args['generate']
        out['generateTokensPerSecond'] = {}
        for prompts in gen['prompts']:
            prompt = torch.tensor(prompts)

            def decode():
                caches = [None] * model.layers
                logits = model.forward(prompt, 0, caches)
                position = prompt.shape[1]
                for _ in range(gen['tokens']):
                    token = logits[:, -1].argmax(-1, keepdim=True)
                    logits = model.forward(token, position, caches)
                    position += 1

            seconds = timed(decode, 1)
            out['generateTokensPerSecond'][str(len(prompts))] = len(prompts) * gen['tokens'] / seconds
        if gen['prompts']:
            out['peakRssMb']['generate'] = peak_rss_mb()
    train = args['train']
    sequences = torch.tensor(train['sequences'])
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    losses = []

    def step():
        logits = model.forward(sequences[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), sequences[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())

    if train['steps'] > 0:
        seconds = timed(step, train['steps'])
        out['trainTokensPerSecond'] = sequences[:, :-1].numel() / seconds
        out['firstLoss'] = losses[0]
        out['peakRssMb']['train'] = peak_rss_mb()
    return out


def main():
    args = json.loads(sys.argv[1])
    torch.set_num_threads(args.get('threads', 2))
    if args['mode'] == 'logits':
        model = Llama(args['dir'])
        with torch.no_grad():
            model.forward(torch.tensor(args['ids'])).numpy().astype(np.float32).tofile(args['out'])
        print(json.dumps({'written': args['out']}))
    elif args['mode'] == 'bench':
        print(json.dumps(bench(args)))
    else:
        raise SystemExit(f'unknown mode {args["mode"]}')


if __name__ == '__main__':
    main()
