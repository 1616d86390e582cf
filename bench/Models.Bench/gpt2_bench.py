# The same GPT-2-small-shaped model as bench/Models.Bench (nanoGPT layout: LayerNorm, causal self-attention composed
# from matmul/masked_fill/softmax as Debian's libtorch 1.13 has no fused kernel, GELU(tanh) MLP, tied head), random float32
# weights, timed the same way (process CPU time). Prints one JSON object.
#   /usr/bin/python3 gpt2_bench.py THREADS BATCH SEQ LAYERS WARMUP ITERS
import json, math, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

threads, batch, seq, layers, warmup, iters = map(int, sys.argv[1:7])
torch.set_num_threads(threads)
torch.manual_seed(0)
V, P, C, H = 50257, 1024, 768, 12

class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(C), nn.LayerNorm(C)
        self.c_attn, self.c_proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
        self.c_fc, self.mlp_proj = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)

    def attn(self, x):
        B, T, _ = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, H, C // H).transpose(1, 2) for t in (q, k, v))
        scores = q @ k.transpose(-2, -1) * (1.0 / math.sqrt(C // H))
        keep = torch.ones(T, T, dtype=torch.bool).tril()
        y = scores.masked_fill(keep.logical_not(), float("-inf")).softmax(-1) @ v
        return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))

class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(V, C), nn.Embedding(P, C)
        self.h = nn.ModuleList(Block() for _ in range(layers))
        self.ln_f = nn.LayerNorm(C)
        for p in self.parameters():
            if p.dim() > 1: nn.init.normal_(p, 0.0, 0.02)

    def forward(self, ids):
        x = self.wte(ids) + self.wpe(torch.arange(ids.shape[1]))
        for b in self.h: x = b(x)
        return F.linear(self.ln_f(x), self.wte.weight)

model = GPT()
ids = torch.randint(0, V, (batch, seq))

def forward():
    with torch.no_grad(): model(ids)

def train_step():
    logits = model(ids)
    loss = F.cross_entropy(logits[:, :-1].reshape(-1, V), ids[:, 1:].reshape(-1))
    model.zero_grad(set_to_none=True)
    loss.backward()

def best(fn):
    for _ in range(warmup): fn()
    times = []
    for _ in range(iters):
        t = time.process_time(); fn(); times.append(time.process_time() - t)  # CPU time, as the C# side
    return min(times)

print(json.dumps({"torch": torch.__version__, "forward_s": best(forward), "train_s": best(train_step)}))
