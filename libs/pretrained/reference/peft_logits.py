"""Logits (and LoRA gradients) of a base checkpoint plus a LoRA adapter as PEFT loads it.

    python peft_logits.py <base dir> <adapter dir>
    stdin: JSON {"ids": [[token ids]], "targets": [[token ids]]}
    stdout: JSON {"logits": [B][T][V], "grads": {PEFT tensor name: nested list}}

The gradients are of the mean next-token cross-entropy of `targets`, with respect to every LoRA weight
(names as adapter_model.safetensors spells them). Needs torch, transformers and peft (a venv, see
make_tiny_checkpoints.py). Used by lora-training.spec.ts.
"""
import json
import sys

import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM


def main():
    base, adapter = sys.argv[1], sys.argv[2]
    request = json.load(sys.stdin)
    ids, targets = torch.tensor(request['ids']), torch.tensor(request['targets'])
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    model = PeftModel.from_pretrained(model, adapter, is_trainable=True).eval()
    logits = model(input_ids=ids).logits.float()
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
    loss.backward()
    grads = {name.replace('.default', ''): p.grad.tolist()
             for name, p in model.named_parameters() if p.requires_grad}
    json.dump({'logits': logits.detach().tolist(), 'grads': grads}, sys.stdout)


if __name__ == '__main__':
    main()
