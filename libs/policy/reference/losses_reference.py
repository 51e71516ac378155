#!/usr/bin/python3
"""Independent PyTorch reference for Recon's SFT and GRPO losses (TRL GRPOTrainer semantics).

Reads one JSON document on stdin, writes one on stdout. Everything is computed in float64 and the
gradients come from torch autograd:
  sft:  loss and d loss / d logits for completion-only cross-entropy
  grpo: for each case, the advantages, the loss and d loss / d logProbs
Run: /usr/bin/python3 libs/policy/reference/losses_reference.py < fixture.json
"""
import json
import sys

import torch


def t(x):
    return torch.tensor(x, dtype=torch.float64)


def sft(case):
    logits = t(case["logits"]).requires_grad_(True)
    targets = torch.tensor(case["targets"], dtype=torch.long)
    mask = t(case["mask"])
    # cross_entropy(reduction='none') is the negative log-likelihood per token.
    nll = torch.nn.functional.cross_entropy(logits.permute(0, 2, 1), targets, reduction="none")
    normalizer = case.get("normalizer") or mask.sum().clamp(min=1.0)
    loss = (nll * mask).sum() / normalizer
    loss.backward()
    return {"loss": loss.item(), "gradLogits": logits.grad.tolist()}


def advantages(rewards_per_func, weights, g, scale, unbiased, eps):
    names = sorted(rewards_per_func.keys())
    per_func = torch.stack([t(rewards_per_func[n]) for n in names], dim=1)
    w = t([weights.get(n, 1.0) for n in names])
    rewards = (per_func * w.unsqueeze(0)).nansum(dim=1)
    grouped = rewards.view(-1, g)
    mean = grouped.mean(dim=1).repeat_interleave(g, dim=0)
    adv = rewards - mean
    if scale == "group":
        std = grouped.std(dim=1, unbiased=unbiased).repeat_interleave(g, dim=0) if g > 1 else torch.zeros_like(rewards)
    else:
        std = rewards.std(unbiased=unbiased).expand_as(rewards) if rewards.numel() > 1 else torch.zeros_like(rewards)
    if scale != "none":
        adv = adv / (std + eps)
    return rewards, adv


def grpo(data, case):
    logp = t(data["logProbs"]).requires_grad_(True)
    mask = t(data["mask"])
    _, adv = advantages(
        data["rewards"], data["weights"], data["numGenerations"], case["scaleRewards"], case["unbiasedStd"],
        case["advantageEpsilon"],
    )
    old = t(data["oldLogProbs"]) if case["useOld"] else logp.detach()
    coef_1 = torch.exp(logp - old)
    eps_low = case["epsilon"]
    eps_high = case.get("epsilonHigh") or case["epsilon"]
    coef_2 = torch.clamp(coef_1, 1 - eps_low, 1 + eps_high)
    per_token = -torch.min(coef_1 * adv.unsqueeze(1), coef_2 * adv.unsqueeze(1))
    if case["beta"] != 0.0:
        ref = t(data["refLogProbs"])
        per_token = per_token + case["beta"] * (torch.exp(ref - logp) - (ref - logp) - 1)
    gas = case["gradientAccumulationSteps"]
    kind = case["lossType"]
    if kind == "grpo":
        loss = ((per_token * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)).mean() / gas
    elif kind == "bnpo":
        loss = (per_token * mask).sum() / mask.sum().clamp(min=1.0) / gas
    elif kind == "dr_grpo":
        loss = (per_token * mask).sum() / (per_token.size(0) * case["maxCompletionLength"]) / gas
    elif kind == "dapo":
        loss = (per_token * mask).sum() / case["numItemsInBatch"]
    else:
        raise ValueError("unknown lossType %r" % kind)
    loss.backward()
    return {"advantages": adv.tolist(), "loss": loss.item(), "gradLogProbs": logp.grad.tolist()}


def main():
    data = json.load(sys.stdin)
    out = {"torch": torch.__version__, "sft": sft(data["sft"]), "grpo": [grpo(data["grpo"], c) for c in data["grpo"]["cases"]]}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
