"""PyTorch baseline for bench/policy: the same GPT architecture as libs/policy's TransformerPolicy
(pre-norm, learned positions, GELU-tanh MLP x4, untied head), trained with AdamW and decoded with a
KV cache. Prints one JSON line. Run with Debian's interpreter: /usr/bin/python3 torch_baseline.py '<json>'."""
import json, math, os, sys, time
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from torch_matmul import matmul_gflops  # noqa: E402  (bench/torch_matmul.py, shared with bench/pretrained)

args = json.loads(sys.argv[1])
torch.set_num_threads(args.get("threads", 2))
torch.manual_seed(0)


class Block(torch.nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.h = h
        self.ln1, self.ln2 = torch.nn.LayerNorm(d), torch.nn.LayerNorm(d)
        self.q, self.k, self.v, self.o = (torch.nn.Linear(d, d) for _ in range(4))
        self.up, self.down = torch.nn.Linear(d, 4 * d), torch.nn.Linear(4 * d, d)

    def forward(self, x, cache=None):
        b, n, d = x.shape
        hd = d // self.h
        y = self.ln1(x)
        split = lambda t: t.view(b, -1, self.h, hd).transpose(1, 2)
        q, k, v = split(self.q(y)), split(self.k(y)), split(self.v(y))
        if cache is not None:
            if cache.get("k") is not None:
                k = torch.cat([cache["k"], k], 2)
                v = torch.cat([cache["v"], v], 2)
            cache["k"], cache["v"] = k, v
        s = k.shape[2]
        att = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
        mask = torch.ones(n, s, dtype=torch.bool).tril(s - n)
        att = att.masked_fill(~mask, float("-inf")).softmax(-1)
        x = x + self.o((att @ v).transpose(1, 2).reshape(b, n, d))
        return x + self.down(F.gelu(self.up(self.ln2(x)), approximate="tanh"))


class Gpt(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.tok = torch.nn.Embedding(c["vocab"], c["d"])
        self.pos = torch.nn.Embedding(c["context"], c["d"])
        self.blocks = torch.nn.ModuleList(Block(c["d"], c["heads"]) for _ in range(c["layers"]))
        self.ln = torch.nn.LayerNorm(c["d"])
        self.head = torch.nn.Linear(c["d"], c["vocab"], bias=False)

    def forward(self, ids, start=0, caches=None):
        x = self.tok(ids) + self.pos(torch.arange(start, start + ids.shape[1]))
        for i, blk in enumerate(self.blocks):
            x = blk(x, None if caches is None else caches[i])
        return self.head(self.ln(x))


out = {"threads": torch.get_num_threads(), "matmulGflops": matmul_gflops(), "sizes": {}}
for name, c in args["sizes"].items():
    model = Gpt(c)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    ids = torch.randint(0, c["vocab"], (c["batch"], c["context"] + 1))
    def train_step():
        logits = model(ids[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, c["vocab"]), ids[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    train_step()
    t = time.perf_counter()
    for _ in range(args["trainSteps"]):
        train_step()
    train_tps = args["trainSteps"] * c["batch"] * c["context"] / (time.perf_counter() - t)
    gen = {}
    with torch.no_grad():
        for batch in args["genBatches"]:
            prompt = torch.randint(0, c["vocab"], (batch, args["genPrompt"]))
            def decode():
                caches = [dict() for _ in c_range(c)]
                logits = model(prompt, 0, caches)
                pos = prompt.shape[1]
                for _ in range(args["genTokens"]):
                    nxt = logits[:, -1].argmax(-1, keepdim=True)
                    logits = model(nxt, pos, caches)
                    pos += 1
            c_range = lambda c: range(c["layers"])
            decode()
            t = time.perf_counter()
            decode()
            gen[str(batch)] = batch * args["genTokens"] / (time.perf_counter() - t)
    out["sizes"][name] = {"trainTokensPerSecond": train_tps, "generateTokensPerSecond": gen}
print(json.dumps(out))
