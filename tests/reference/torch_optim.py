#!/usr/bin/env python3
"""PyTorch reference for ctformer's optimizer and schedule parity test.

Runs torch.optim's SGD (momentum, Nesterov), Adam (L2 decay), AdamW and RMSprop (plain, and
centered with momentum), and AdamW under a warm-up + cosine schedule (LinearLR then
CosineAnnealingLR through SequentialLR), for 20 steps on recorded gradients, in float32. Weight
decay applies to the weight matrix only (ctformer's default rule: no decay for biases and
embeddings), so each run has two parameter groups. Writes fixtures/optim.safetensors with the
initial tensors, the gradients of every step, every optimizer's parameters after every step
("traj.<run>.<step>.<tensor>") and the schedule's learning rates.

    /usr/bin/python3 tests/reference/torch_optim.py tests/reference/fixtures
"""
import json
import struct
import sys
import warnings

import numpy as np
import torch

STEPS = 20
SHAPES = {"w": (6, 5), "b": (5,), "e": (4, 3)}  # weight, bias, embedding
DECAY = {"w"}


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr, dtype=np.float32 if arr.dtype != np.float64 else np.float64)
        data = arr.tobytes()
        dt = "F64" if arr.dtype == np.float64 else "F32"
        header[name] = {"dtype": dt, "shape": list(arr.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


RUNS = {
    "sgd_momentum": lambda g: torch.optim.SGD(g, lr=0.05, momentum=0.9, weight_decay=0.01),
    "sgd_nesterov": lambda g: torch.optim.SGD(g, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
    "adam": lambda g: torch.optim.Adam(g, lr=1e-2, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.01),
    "adamw": lambda g: torch.optim.AdamW(g, lr=1e-2, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1),
    "rmsprop": lambda g: torch.optim.RMSprop(g, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.01),
    "rmsprop_centered": lambda g: torch.optim.RMSprop(g, lr=1e-2, alpha=0.9, eps=1e-8, weight_decay=0.01,
                                                      momentum=0.5, centered=True),
    "adamw_warmup_cosine": lambda g: torch.optim.AdamW(g, lr=1e-2, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.1),
}


def main(folder):
    rng = np.random.default_rng(7)
    init = {k: rng.normal(size=s).astype(np.float32) for k, s in SHAPES.items()}
    grads = [{k: rng.normal(size=s).astype(np.float32) * (1.0 + 0.2 * t) for k, s in SHAPES.items()}
             for t in range(STEPS)]
    out = {f"init.{k}": v for k, v in init.items()}
    for t, g in enumerate(grads):
        for k, v in g.items():
            out[f"grad.{t}.{k}"] = v
    for run, make in RUNS.items():
        params = {k: torch.tensor(v, dtype=torch.float32, requires_grad=True) for k, v in init.items()}
        groups = [{"params": [params[k] for k in SHAPES if k in DECAY]},
                  {"params": [params[k] for k in SHAPES if k not in DECAY], "weight_decay": 0.0}]
        opt = make(groups)
        sched = None
        lrs = []
        if run == "adamw_warmup_cosine":
            warmup, total, min_lr = 5, STEPS, 1e-3
            sched = torch.optim.lr_scheduler.SequentialLR(opt, [
                torch.optim.lr_scheduler.LinearLR(opt, start_factor=1.0 / warmup, end_factor=1.0, total_iters=warmup - 1),
                torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total - warmup, eta_min=min_lr)],
                milestones=[warmup])
        for t in range(STEPS):
            lrs.append(opt.param_groups[0]["lr"])
            for k, p in params.items():
                p.grad = torch.tensor(grads[t][k])
            opt.step()
            if sched is not None:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    sched.step()
            for k, p in params.items():
                out[f"traj.{run}.{t}.{k}"] = p.detach().numpy().copy()
        if sched is not None:
            out[f"lr.{run}"] = np.array(lrs, dtype=np.float64)
    write_safetensors(f"{folder}/optim.safetensors", out)
    print(f"wrote {len(RUNS)} optimizer trajectories of {STEPS} steps")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/reference/fixtures")
