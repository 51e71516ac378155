"""Checks a merged export (recon export --merged) against PyTorch, without transformers or PEFT.

    python3 merged_reference.py <source dir> <PEFT adapter dir> <merged dir>
    stdin: JSON {"ids": [[token ids]]}
    stdout: JSON {"tensors": {name: {"dtype", "elements", "differing", "maxAbsDiff"}}, "files": [...],
                  "logits": [B][T][V]}

Every tensor of the merged directory is compared with what PyTorch computes from the source and the PEFT
adapter: W + (B @ A) * lora_alpha / r in float64, rounded to float32 and then to the merged file's dtype by
torch's own conversions (round to nearest, ties to even). "differing" counts elements whose bits differ.
The logits are the independent forward pass of torch_forward.py on the merged weights. safetensors files are
parsed by checkpoint_io.py, so only torch is needed.
"""
import json
import os
import sys

import torch

from checkpoint_io import read_checkpoint, read_safetensors
from torch_forward import forward_config, reference_forward


def expected_tensors(source, adapter_dir, merged):
    with open(os.path.join(adapter_dir, 'adapter_config.json')) as f:
        config = json.load(f)
    scale = config['lora_alpha'] / config['r']
    adapter = read_safetensors(os.path.join(adapter_dir, 'adapter_model.safetensors'))
    expected = {}
    for name, weight in source.items():
        module = 'base_model.model.' + name[:-len('.weight')]
        a, b = adapter.get(module + '.lora_A.weight'), adapter.get(module + '.lora_B.weight')
        value = weight.double()
        if a is not None:
            value = value + (b.double() @ a.double()) * scale
        expected[name] = value.float().to(merged[name].dtype)
    return expected


def main():
    source_dir, adapter_dir, merged_dir = sys.argv[1:4]
    ids = torch.tensor(json.load(sys.stdin)['ids'])
    source, merged = read_checkpoint(source_dir), read_checkpoint(merged_dir)
    expected = expected_tensors(source, adapter_dir, merged)
    report = {}
    for name in sorted(set(source) | set(merged)):
        if name not in merged or name not in source:
            report[name] = {'missing': name not in merged, 'added': name not in source}
            continue
        ours, theirs = merged[name], expected[name]
        same_bits = ours.view(torch.int16 if ours.element_size() == 2 else torch.int32) == \
            theirs.view(torch.int16 if theirs.element_size() == 2 else torch.int32)
        report[name] = {
            'dtype': str(ours.dtype).replace('torch.', ''),
            'elements': ours.numel(),
            'differing': int((~same_bits).sum()),
            'maxAbsDiff': float((ours.double() - theirs.double()).abs().max()),
        }
    with open(os.path.join(merged_dir, 'config.json')) as f:
        cfg = forward_config(json.load(f))
    with torch.no_grad():
        logits = reference_forward(cfg, {k: v.float() for k, v in merged.items()}, ids)
    json.dump({'tensors': report, 'files': sorted(os.listdir(merged_dir)), 'logits': logits.tolist()},
              sys.stdout)


if __name__ == '__main__':
    main()
