"""Logits and LoRA gradients of a checkpoint plus a PEFT LoRA adapter, in PyTorch without transformers or PEFT.

    python3 lora_reference.py <checkpoint dir> <PEFT adapter dir>
    stdin: JSON {"ids": [[token ids]], "targets": [[token ids]] (optional),
                 "weights": [[0 or 1 per position]] (optional), "normalizer": number (optional)}
    stdout: JSON {"logits": [B][T][V], "loss": number, "grads": {PEFT tensor name: nested list}}

The forward pass is torch_forward.reference_forward in float64, with every projection that the adapter's
target_modules names adapted as PEFT's LoRA layer does with dropout 0: y = x W^T + b + (x A^T B^T) * alpha / r
(alpha / sqrt(r) with use_rslora). The loss is the next-token cross-entropy of `targets` summed over the
positions whose weight is 1 (all of them without weights) and divided by `normalizer` (default: the number of
those positions, a mean); "grads" are its gradients with respect to every lora_A [r, in] and lora_B [out, r],
named and laid out as adapter_model.safetensors stores them. Without targets only the logits are computed.
Right padding needs no attention mask: a causal model's earlier positions never see it. Used by
lora-gradients.torch.spec.ts.
"""
import json
import math
import os
import sys

import torch

from checkpoint_io import read_checkpoint, read_safetensors
from torch_forward import forward_config, reference_forward

PREFIX = 'base_model.model.'


class AdapterError(Exception):
    pass


def lora_scale(config, where):
    unsupported = [
        ('peft_type', config.get('peft_type'), 'LORA'),
        ('lora_dropout', config.get('lora_dropout', 0), 0),
        ('bias', config.get('bias', 'none'), 'none'),
        ('fan_in_fan_out', config.get('fan_in_fan_out', False), False),
        ('use_dora', config.get('use_dora', False), False),
        ('rank_pattern', config.get('rank_pattern') or {}, {}),
        ('alpha_pattern', config.get('alpha_pattern') or {}, {}),
        ('layers_to_transform', config.get('layers_to_transform'), None),
    ]
    for key, value, wanted in unsupported:
        if value != wanted:
            raise AdapterError(f'{where}: {key} is {value!r}; this reference handles only {wanted!r}')
    if not isinstance(config.get('target_modules'), list):
        raise AdapterError(f'{where}: target_modules must be a list of module names')
    r, alpha = config['r'], config['lora_alpha']
    return alpha / math.sqrt(r) if config.get('use_rslora') else alpha / r


def load_adapters(adapter_dir, base):
    """{module: (A, B)} as float64 leaves that need gradients, and the scale; checked against the base."""
    config_file = os.path.join(adapter_dir, 'adapter_config.json')
    with open(config_file) as f:
        config = json.load(f)
    scale = lora_scale(config, config_file)
    weights_file = os.path.join(adapter_dir, 'adapter_model.safetensors')
    tensors = read_safetensors(weights_file)
    targets = set(config['target_modules'])
    # PEFT adapts a module whose name is a target or ends with '.' + a target.
    modules = [name[:-len('.weight')] for name, t in base.items()
               if name.endswith('.weight') and t.dim() == 2
               and name[:-len('.weight')].split('.')[-1] in targets]
    adapters = {}
    for module in modules:
        out_features, in_features = base[module + '.weight'].shape
        pair = []
        for part, shape in (('lora_A', (config['r'], in_features)), ('lora_B', (out_features, config['r']))):
            name = f'{PREFIX}{module}.{part}.weight'
            if name not in tensors:
                raise AdapterError(f'{weights_file}: no tensor {name}')
            if tuple(tensors[name].shape) != shape:
                raise AdapterError(f'{weights_file}: {name} has shape {list(tensors[name].shape)}, '
                                   f'expected {list(shape)}')
            pair.append(tensors.pop(name).double().requires_grad_())
        adapters[module] = tuple(pair)
    if not adapters:
        raise AdapterError(f'{config_file}: target_modules {sorted(targets)} match no linear layer of the base')
    if tensors:
        raise AdapterError(f'{weights_file}: tensors for no targeted module: {sorted(tensors)}')
    return adapters, scale


def main():
    checkpoint_dir, adapter_dir = sys.argv[1:3]
    request = json.load(sys.stdin)
    with open(os.path.join(checkpoint_dir, 'config.json')) as f:
        cfg = forward_config(json.load(f))
    base = {name: t.double() for name, t in read_checkpoint(checkpoint_dir).items()}
    try:
        adapters, scale = load_adapters(adapter_dir, base)
    except AdapterError as e:
        sys.exit(f'lora_reference.py: {e}')

    def adapt(module, x):
        if module not in adapters:
            return None
        a, b = adapters[module]
        return (x @ a.T) @ b.T * scale

    ids = torch.tensor(request['ids'])
    logits = reference_forward(cfg, base, ids, adapt)
    result = {'logits': logits.tolist()}
    if 'targets' in request:
        targets = torch.tensor(request['targets'])
        weights = torch.tensor(request['weights'], dtype=torch.float64) if 'weights' in request \
            else torch.ones(targets.shape, dtype=torch.float64)
        losses = torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction='none')
        loss = (losses * weights.reshape(-1)).sum() / request.get('normalizer', weights.sum().item())
        loss.backward()
        result['loss'] = loss.item()
        result['grads'] = {f'{PREFIX}{module}.{part}.weight': tensor.grad.tolist()
                           for module, pair in adapters.items()
                           for part, tensor in zip(('lora_A', 'lora_B'), pair)}
    json.dump(result, sys.stdout)


if __name__ == '__main__':
    main()
