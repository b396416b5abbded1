#!/usr/bin/python3
# Reference for examples/shakespeare_char: the same character-level GPT (nanoGPT's architecture:
# pre-LN, GELU, learned positions, tied head) and nanoGPT's CPU settings, trained in PyTorch, with
# the validation loss measured as the example measures it (every position of the last 10%, in
# consecutive 64-character windows). It tells what these settings reach outside ctformer.
#   /usr/bin/python3 tests/reference/shakespeare_char_torch.py ../shared/data/tinyshakespeare/input.txt \
#       [--bias 0|1] [--seed N] [--decay-embeddings 0|1] [--iterations N]
# Runs on one thread (OMP_WAIT_POLICY=PASSIVE is set for it). CI never runs it.
import argparse
import math
import os
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("path")
ap.add_argument("--bias", type=int, default=1)
ap.add_argument("--seed", type=int, default=1337)
ap.add_argument("--decay-embeddings", type=int, default=1)
ap.add_argument("--iterations", type=int, default=2000)
args = ap.parse_args()
torch.set_num_threads(1)
torch.manual_seed(args.seed)

L, H, C, T, B = 4, 4, 128, 64, 12
LR, MIN_LR, WARMUP, WD, CLIP = 1e-3, 1e-4, 100, 0.1, 1.0

text = open(args.path, encoding="utf-8").read()
alphabet = sorted(set(text))
index = {ch: i for i, ch in enumerate(alphabet)}
data = torch.tensor([index[ch] for ch in text], dtype=torch.long)
cut = int(len(data) * 0.9)
train, val = data[:cut], data[cut:]
V = len(alphabet)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(C), nn.LayerNorm(C)
        if not args.bias:  # torch 1.13's LayerNorm has no bias flag: keep the shift frozen at zero
            self.ln1.bias.requires_grad_(False)
            self.ln2.bias.requires_grad_(False)
        self.qkv = nn.Linear(C, 3 * C, bias=bool(args.bias))
        self.proj = nn.Linear(C, C, bias=bool(args.bias))
        self.fc = nn.Linear(C, 4 * C, bias=bool(args.bias))
        self.fc2 = nn.Linear(4 * C, C, bias=bool(args.bias))
        self.register_buffer("causal", torch.tril(torch.ones(T, T, dtype=torch.bool)))

    def forward(self, x):
        b, t, _ = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
        q, k, v = (z.view(b, t, H, C // H).transpose(1, 2) for z in (q, k, v))
        a = (q @ k.transpose(-2, -1)) / math.sqrt(C // H)
        a = a.masked_fill(~self.causal[:t, :t], float("-inf")).softmax(dim=-1)
        y = (a @ v).transpose(1, 2).reshape(b, t, C)
        x = x + self.proj(y)
        return x + self.fc2(F.gelu(self.fc(self.ln2(x))))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(V, C)
        self.wpe = nn.Embedding(T, C)
        self.blocks = nn.ModuleList(Block() for _ in range(L))
        self.ln_f = nn.LayerNorm(C)
        if not args.bias:
            self.ln_f.bias.requires_grad_(False)
        for name, p in self.named_parameters():
            if name.endswith("bias"):
                nn.init.zeros_(p)
            elif p.dim() >= 2:
                std = 0.02 / math.sqrt(2 * L) if name.endswith(("proj.weight", "fc2.weight")) else 0.02
                nn.init.normal_(p, 0.0, std)

    def forward(self, idx):
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
        for blk in self.blocks:
            x = blk(x)
        return self.ln_f(x) @ self.wte.weight.t()  # tied head


model = GPT()
decay, rest = [], []
for name, p in model.named_parameters():
    if not p.requires_grad:
        continue
    is_embedding = name.startswith(("wte", "wpe"))
    (decay if p.dim() >= 2 and (args.decay_embeddings or not is_embedding) else rest).append(p)
opt = torch.optim.AdamW([{"params": decay, "weight_decay": WD}, {"params": rest, "weight_decay": 0.0}],
                        lr=LR, betas=(0.9, 0.99))


def lr_at(t):  # the schedule ctformer's warmup_cosine computes
    if t < WARMUP:
        return LR * (t + 1) / WARMUP
    ratio = (t - WARMUP) / (args.iterations - WARMUP)
    return MIN_LR + (LR - MIN_LR) * 0.5 * (1 + math.cos(math.pi * ratio))


@torch.no_grad()
def val_loss():
    model.eval()
    n = (len(val) - 1) // T
    x = val[: n * T].view(n, T)
    y = val[1: n * T + 1].view(n, T)
    total = 0.0
    for i in range(0, n, 64):
        logits = model(x[i: i + 64])
        total += F.cross_entropy(logits.reshape(-1, V), y[i: i + 64].reshape(-1), reduction="sum").item()
    model.train()
    return total / (n * T)


start = time.time()
for it in range(args.iterations):
    for g in opt.param_groups:
        g["lr"] = lr_at(it)
    ix = torch.randint(len(train) - T, (B,))
    xb = torch.stack([train[i: i + T] for i in ix])
    yb = torch.stack([train[i + 1: i + 1 + T] for i in ix])
    loss = F.cross_entropy(model(xb).reshape(-1, V), yb.reshape(-1))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
    opt.step()
    if (it + 1) % 500 == 0:
        print(f"step {it + 1}: train loss {loss.item():.4f}, validation loss {val_loss():.4f}", flush=True)
params = sum(p.numel() for p in model.parameters())
print(f"torch {torch.__version__}: bias {args.bias}, seed {args.seed}, decay embeddings {args.decay_embeddings}, "
      f"{params} parameters; validation loss {val_loss():.4f} after {args.iterations} steps, {time.time() - start:.0f} s")
