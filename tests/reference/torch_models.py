#!/usr/bin/env python3
"""PyTorch reference for ctformer's parity test.

Builds the three small models of tests/parity/parity_models.hpp independently in PyTorch
(Debian's python3-torch), loads the weights and batches that ctformer wrote
(fixtures/<model>_inputs.safetensors), and writes fixtures/<model>_expected.safetensors with the
logits, the loss, every parameter gradient ("grad.<name>"), the losses of a few AdamW steps and
the weights after them ("trained.<name>").

    /usr/bin/python3 tests/reference/torch_models.py tests/reference/fixtures

CI never runs this; the fixtures are committed.
"""
import json
import math
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)  # the reference computes in double
LABEL_SMOOTHING = 0.1
ADAMW_STEPS, ADAMW_LR, ADAMW_WD = 5, 1e-2, 0.01

DT = {"F32": np.float32, "F64": np.float64, "I32": np.int32}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, en = e["data_offsets"]
        arr = np.frombuffer(raw[8 + n + b: 8 + n + en], dtype=DT[e["dtype"]]).reshape(e["shape"])
        out[name] = arr.copy()
    return out


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        data = arr.tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def gelu(x):
    return F.gelu(x, approximate="tanh")


def layer_norm(x, w, b, eps):
    return F.layer_norm(x, (x.shape[-1],), w, b, eps)


def attention(q, k, v, heads, key_mask=None, causal=False):
    """q (B,Sq,C), k/v (B,Sk,C); key_mask (B,Sk) 1 real 0 pad."""
    B, Sq, C = q.shape
    Sk = k.shape[1]
    D = C // heads
    q = q.view(B, Sq, heads, D).transpose(1, 2)
    k = k.view(B, Sk, heads, D).transpose(1, 2)
    v = v.view(B, Sk, heads, D).transpose(1, 2)
    scores = q @ k.transpose(-1, -2) / math.sqrt(D)
    allowed = torch.ones(B, 1, Sq, Sk, dtype=torch.bool)
    if key_mask is not None:
        allowed = allowed & (key_mask[:, None, None, :] != 0)
    if causal:
        allowed = allowed & torch.tril(torch.ones(Sq, Sk, dtype=torch.bool))[None, None]
    scores = scores.masked_fill(~allowed, float("-inf"))
    att = torch.softmax(scores, dim=-1)
    return (att @ v).transpose(1, 2).reshape(B, Sq, C)


def linear_hf(p, prefix, x):
    """nn.Linear layout: weight (out, in)."""
    return F.linear(x, p[prefix + "weight"], p[prefix + "bias"])


def conv1d(p, prefix, x):
    """GPT-2 Conv1D layout: weight (in, out)."""
    return x @ p[prefix + "weight"] + p[prefix + "bias"]


def sinusoidal(ctx, C):
    pe = torch.zeros(ctx, C)
    for pos in range(ctx):
        for i in range(C):
            a = pos * 10000.0 ** (-(i - i % 2) / C)
            pe[pos, i] = math.sin(a) if i % 2 == 0 else math.cos(a)
    return pe


def ce(logits, targets):
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1).long(),
                           ignore_index=-100, label_smoothing=LABEL_SMOOTHING)


# ---- GPT-like: pre-LN, GELU, learned positions, tied head ---------------------------------
def gpt_loss(p, x, heads=2, layers=2, eps=1e-5):
    ids, mask = x["input.ids"], x["input.attention_mask"]
    B, S = ids.shape
    h = p["wte.weight"][ids.long()] + p["wpe.weight"][:S][None]
    for l in range(layers):
        pre = f"h.{l}."
        a = layer_norm(h, p[pre + "ln_1.weight"], p[pre + "ln_1.bias"], eps)
        qkv = conv1d(p, pre + "attn.c_attn.", a)
        q, k, v = qkv.split(qkv.shape[-1] // 3, dim=-1)
        h = h + conv1d(p, pre + "attn.c_proj.", attention(q, k, v, heads, mask, causal=True))
        a = layer_norm(h, p[pre + "ln_2.weight"], p[pre + "ln_2.bias"], eps)
        h = h + conv1d(p, pre + "mlp.c_proj.", gelu(conv1d(p, pre + "mlp.c_fc.", a)))
    h = layer_norm(h, p["ln_f.weight"], p["ln_f.bias"], eps)
    logits = h @ p["wte.weight"].T
    return logits, ce(logits, x["input.targets"])


# ---- BERT-like: post-LN, GELU, learned positions, token types, MLM head tied ------------------
def bert_loss(p, x, heads=2, layers=2, eps=1e-12):
    ids, mask, tt = x["input.ids"], x["input.attention_mask"], x["input.token_type"]
    B, S = ids.shape
    e = (p["embeddings.word_embeddings.weight"][ids.long()] + p["embeddings.position_embeddings.weight"][:S][None]
         + p["embeddings.token_type_embeddings.weight"][tt.long()])
    h = layer_norm(e, p["embeddings.LayerNorm.weight"], p["embeddings.LayerNorm.bias"], eps)
    for l in range(layers):
        pre = f"encoder.layer.{l}."
        q = linear_hf(p, pre + "attention.self.query.", h)
        k = linear_hf(p, pre + "attention.self.key.", h)
        v = linear_hf(p, pre + "attention.self.value.", h)
        a = linear_hf(p, pre + "attention.output.dense.", attention(q, k, v, heads, mask))
        h = layer_norm(h + a, p[pre + "attention.output.LayerNorm.weight"], p[pre + "attention.output.LayerNorm.bias"], eps)
        f = linear_hf(p, pre + "output.dense.", gelu(linear_hf(p, pre + "intermediate.dense.", h)))
        h = layer_norm(h + f, p[pre + "output.LayerNorm.weight"], p[pre + "output.LayerNorm.bias"], eps)
    t = gelu(linear_hf(p, "cls.predictions.transform.dense.", h))
    t = layer_norm(t, p["cls.predictions.transform.LayerNorm.weight"], p["cls.predictions.transform.LayerNorm.bias"], eps)
    logits = t @ p["embeddings.word_embeddings.weight"].T + p["cls.predictions.bias"]
    return logits, ce(logits, x["input.targets"])


# ---- encoder-decoder: pre-LN, ReLU, sinusoidal positions, tied output ---------------------------
def s2s_loss(p, x, heads=2, enc_layers=2, dec_layers=2, eps=1e-5):
    src, smask = x["input.src_ids"], x["input.src_mask"]
    tin, tmask = x["input.tgt_in"], x["input.tgt_mask"]
    C = p["encoder.embed_tokens.weight"].shape[1]
    scale = math.sqrt(C)
    Ss, St = src.shape[1], tin.shape[1]
    h = scale * p["encoder.embed_tokens.weight"][src.long()] + sinusoidal(10, C)[:Ss][None]
    for l in range(enc_layers):
        pre = f"encoder.layers.{l}."
        a = layer_norm(h, p[pre + "self_attn_layer_norm.weight"], p[pre + "self_attn_layer_norm.bias"], eps)
        q, k, v = (linear_hf(p, pre + f"self_attn.{n}_proj.", a) for n in "qkv")
        h = h + linear_hf(p, pre + "self_attn.out_proj.", attention(q, k, v, heads, smask))
        a = layer_norm(h, p[pre + "final_layer_norm.weight"], p[pre + "final_layer_norm.bias"], eps)
        h = h + linear_hf(p, pre + "fc2.", torch.relu(linear_hf(p, pre + "fc1.", a)))
    enc = layer_norm(h, p["encoder.layer_norm.weight"], p["encoder.layer_norm.bias"], eps)
    y = scale * p["decoder.embed_tokens.weight"][tin.long()] + sinusoidal(9, C)[:St][None]
    for l in range(dec_layers):
        pre = f"decoder.layers.{l}."
        a = layer_norm(y, p[pre + "self_attn_layer_norm.weight"], p[pre + "self_attn_layer_norm.bias"], eps)
        q, k, v = (linear_hf(p, pre + f"self_attn.{n}_proj.", a) for n in "qkv")
        y = y + linear_hf(p, pre + "self_attn.out_proj.", attention(q, k, v, heads, tmask, causal=True))
        a = layer_norm(y, p[pre + "encoder_attn_layer_norm.weight"], p[pre + "encoder_attn_layer_norm.bias"], eps)
        q = linear_hf(p, pre + "encoder_attn.q_proj.", a)
        k = linear_hf(p, pre + "encoder_attn.k_proj.", enc)
        v = linear_hf(p, pre + "encoder_attn.v_proj.", enc)
        y = y + linear_hf(p, pre + "encoder_attn.out_proj.", attention(q, k, v, heads, smask))
        a = layer_norm(y, p[pre + "final_layer_norm.weight"], p[pre + "final_layer_norm.bias"], eps)
        y = y + linear_hf(p, pre + "fc2.", torch.relu(linear_hf(p, pre + "fc1.", a)))
    y = layer_norm(y, p["decoder.layer_norm.weight"], p["decoder.layer_norm.bias"], eps)
    logits = y @ p["decoder.embed_tokens.weight"].T
    return logits, ce(logits, x["input.tgt_out"])


def run(name, fn, folder):
    raw = read_safetensors(f"{folder}/{name}_inputs.safetensors")
    inputs = {k: torch.from_numpy(v) for k, v in raw.items() if k.startswith("input.")}
    params = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
              for k, v in raw.items() if not k.startswith("input.")}
    logits, loss = fn(params, inputs)
    loss.backward()
    out = {"logits": logits.detach().numpy(), "loss": np.array([loss.item()])}
    for k, v in params.items():
        out["grad." + k] = v.grad.numpy().copy()  # the optimizer below reuses .grad
    # AdamW on the same batch: losses before each step, then the final weights of one tensor.
    opt = torch.optim.AdamW(params.values(), lr=ADAMW_LR, betas=(0.9, 0.999), eps=1e-8, weight_decay=ADAMW_WD)
    losses = []
    for _ in range(ADAMW_STEPS):
        opt.zero_grad()
        _, loss = fn(params, inputs)
        losses.append(loss.item())
        loss.backward()
        opt.step()
    _, loss = fn(params, inputs)
    losses.append(loss.item())
    out["adamw_losses"] = np.array(losses)
    # The weights after the AdamW steps, written back under their Hugging Face names: ctformer
    # loads this file (PyTorch -> ctformer) and compares with its own optimizer's result.
    for k, v in params.items():
        out["trained." + k] = v.detach().numpy()
    write_safetensors(f"{folder}/{name}_expected.safetensors", out)
    print(f"{name}: loss {out['loss'][0]:.6f}, {len(params)} gradients, adamw losses {np.round(losses, 5).tolist()}")


if __name__ == "__main__":
    folder = sys.argv[1] if len(sys.argv) > 1 else "tests/reference/fixtures"
    run("gpt", gpt_loss, folder)
    run("bert", bert_loss, folder)
    run("s2s", s2s_loss, folder)
