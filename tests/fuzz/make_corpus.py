#!/usr/bin/env python3
"""Writes the small seed corpora under tests/fuzz/corpus/<harness>/ from the shared data
(../shared/data) and tests/spm/fixtures. Rerun after changing it; keep the total under 2 MB.
Usage: tests/fuzz/make_corpus.py [DATA_DIR]"""
import json, os, struct, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DATA = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(ROOT), "shared", "data")
SPM = os.path.join(ROOT, "tests", "spm", "fixtures")
OUT = os.path.join(HERE, "corpus")
SEP = b"\n=====\n"  # fuzz::separator


def put(harness, name, data):
    d = os.path.join(OUT, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def lines(path, n, skip=0):
    with open(path, "rb") as f:
        return f.read().split(b"\n")[skip:skip + n]


def varint(v):
    s = b""
    while v >= 0x80:
        s += bytes([(v & 0x7F) | 0x80])
        v >>= 7
    return s + bytes([v])


def fields(data):
    """(field, wire, value) of one protobuf message."""
    i, out = 0, []
    while i < len(data):
        tag, n = 0, 0
        while True:
            b = data[i]; i += 1; tag |= (b & 0x7F) << (7 * n); n += 1
            if b < 0x80: break
        f, w = tag >> 3, tag & 7
        if w == 0:
            v, n = 0, 0
            while True:
                b = data[i]; i += 1; v |= (b & 0x7F) << (7 * n); n += 1
                if b < 0x80: break
        elif w == 2:
            ln, n = 0, 0
            while True:
                b = data[i]; i += 1; ln |= (b & 0x7F) << (7 * n); n += 1
                if b < 0x80: break
            v = data[i:i + ln]; i += ln
        elif w == 5:
            v = data[i:i + 4]; i += 4
        elif w == 1:
            v = data[i:i + 8]; i += 8
        out.append((f, w, v))
    return out


def charsmap_of(model_path):
    with open(model_path, "rb") as f:
        m = f.read()
    for f_, w, v in fields(m):
        if f_ == 3:
            for g, w2, blob in fields(v):
                if g == 2:
                    return blob
    return b""


def safetensors(tensors, metadata=None):
    header, data = {}, b""
    if metadata:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


def f32(n, start=0.0):
    return b"".join(struct.pack("<f", start + 0.01 * i) for i in range(n))


def main():
    texts = [l for l in lines(os.path.join(DATA, "tinyshakespeare", "input.txt"), 40) if l]
    french = [l.split(b"\t")[1] for l in lines(os.path.join(DATA, "translation", "eng-fra.20k.tsv"), 3000)[2990:] if b"\t" in l]
    edge = ["", " ", "  a  b  ", "\t\n\r", "l'été à Paris", "Ａｂｃ ①②③ ﬁ", "😀👍🏽 👨‍👩‍👧", "中文字符 日本語", "\u0301e\u0301",
            "&lt;b&gt;bold&lt;/b&gt; <p>x</p>", "can't won't it's", "\x00\x01\x7f", "ŉ İ ß ẞ"]
    edge_b = [e.encode() for e in edge] + [b"\xff\xfe", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf"]

    # JSON
    for i, doc in enumerate(['{"a": [1, 2.5, -3e10, true, false, null], "b": {"c": "d\\u00e9\\n"}}', "[]", '"\\ud83d\\ude00"',
                             "123456789012345678901234567890", '{"": {"": [[[]]]}}', "-0.0", "1e400"]):
        put("json", f"doc{i}.json", doc)
    enc = json.load(open(os.path.join(DATA, "gpt2-bpe", "encoder.json"), encoding="utf-8"))
    small = {k: v for k, v in enc.items() if v < 356}
    put("json", "encoder_small.json", json.dumps(small, ensure_ascii=False))

    # safetensors: bytes, then the same with a first option byte for loading into the model
    put("safetensors", "f32.bin", safetensors([("a", "F32", [2, 3], f32(6)), ("b", "F32", [], f32(1))], {"format": "pt"}))
    put("safetensors", "mixed.bin", safetensors([("h", "F16", [4], b"\x00\x3c" * 4), ("i", "I8", [2, 2], b"\x01\x02\x03\x04"),
                                                ("z", "F64", [0, 5], b""), ("w", "BF16", [2], b"\x80\x3f" * 2)]))
    put("safetensors", "empty.bin", safetensors([]))
    V, T, C, F, L = 17, 8, 8, 16, 2
    ts = [("wte.weight", "F32", [V, C], f32(V * C)), ("wpe.weight", "F32", [T, C], f32(T * C))]
    for l in range(L):
        p = f"h.{l}."
        ts += [(p + "ln_1.weight", "F32", [C], f32(C, 1)), (p + "ln_1.bias", "F32", [C], f32(C)),
               (p + "attn.c_attn.weight", "F32", [C, 3 * C], f32(3 * C * C)), (p + "attn.c_attn.bias", "F32", [3 * C], f32(3 * C)),
               (p + "attn.c_proj.weight", "F32", [C, C], f32(C * C)), (p + "attn.c_proj.bias", "F32", [C], f32(C)),
               (p + "ln_2.weight", "F32", [C], f32(C, 1)), (p + "ln_2.bias", "F32", [C], f32(C)),
               (p + "mlp.c_fc.weight", "F32", [C, F], f32(C * F)), (p + "mlp.c_fc.bias", "F32", [F], f32(F)),
               (p + "mlp.c_proj.weight", "F32", [F, C], f32(F * C)), (p + "mlp.c_proj.bias", "F32", [C], f32(C))]
    ts += [("ln_f.weight", "F32", [C], f32(C, 1)), ("ln_f.bias", "F32", [C], f32(C))]
    gpt = safetensors(ts, {"format": "pt"})
    put("safetensors", "gpt_tiny.bin", gpt)
    for opt in (0, 1, 2, 4, 8):
        put("safetensors_model", f"gpt_tiny_opt{opt}.bin", bytes([opt]) + gpt)
    put("safetensors_model", "prefixed.bin", b"\x00" + safetensors([("transformer." + n, d, s, r) for n, d, s, r in ts]))
    put("safetensors_model", "f16.bin", b"\x02" + safetensors([("wte.weight", "F16", [V, C], b"\x00\x3c" * V * C)]))

    # GPT-2 BPE: a small encoder.json + vocab.bpe pair (the first 100 merges), and texts
    merges = lines(os.path.join(DATA, "gpt2-bpe", "vocab.bpe"), 101)
    small_enc = json.dumps(small, ensure_ascii=False).encode()
    put("bpe_load", "gpt2_small.txt", small_enc + SEP + b"\n".join(merges) + b"\n")
    bytes_only = json.dumps({k: v for k, v in enc.items() if v < 256}, ensure_ascii=False).encode()
    put("bpe_load", "bytes_only.txt", bytes_only + SEP + b"#version: 0.2\n")
    for i, t in enumerate(texts[:12] + edge_b):
        put("bpe_encode", f"text{i}.txt", t)
    for i, l in enumerate(lines(os.path.join(DATA, "gpt2-bpe", "parity_public.jsonl"), 300)[::30]):
        if l:
            put("bpe_encode", f"parity{i}.txt", json.loads(l)["text"].encode())

    # WordPiece: a vocabulary slice + text (first byte of the text: options), and texts
    vocab = lines(os.path.join(DATA, "bert-wordpiece", "vocab.txt"), 30522)
    slice_ = vocab[:5] + vocab[100:105] + vocab[1000:1400] + [v for v in vocab if v.startswith(b"##")][:150]
    for i, opt in enumerate((0x0F, 0x87, 0x00)):
        put("wordpiece_load", f"vocab{i}.txt", b"\n".join(slice_) + SEP + bytes([opt]) + b"the quick brown fox, unbelievable! \xe4\xb8\xad\xe6\x96\x87")
    for i, l in enumerate(lines(os.path.join(DATA, "bert-wordpiece", "parity_public.jsonl"), 315)[::20]):
        if l:
            put("wordpiece_encode", f"parity{i}.txt", json.loads(l)["text"].encode())
    for i, t in enumerate(edge_b):
        put("wordpiece_encode", f"edge{i}.txt", t)

    # SentencePiece: whole models, the nmt_nfkc charsmap alone, its trie alone, texts
    for m in ("french_bpe1000_identity", "french_unigram1000_identity", "shakespeare_unigram1000_bytes",
              "shakespeare_unigram1000_suffix", "french_unigram1000_noprefix", "french_unigram1000_nmt_nfkc"):
        put("spm_model", m + ".model", open(os.path.join(SPM, m + ".model"), "rb").read())
    blob = charsmap_of(os.path.join(SPM, "french_unigram1000_nmt_nfkc.model"))
    put("spm_charsmap", "nmt_nfkc.bin", blob + SEP + bytes([0x07]) + "Ｈｅｌｌｏ ①  ﬁ x\u0301 ".encode())
    trie_size = struct.unpack("<I", blob[:4])[0]
    trie = blob[4:4 + trie_size]
    put("spm_double_array", "nmt_nfkc_trie_head.bin", trie[:4096])
    # A hand-made map: byte 0x01 -> "a" (unit 3 ends the key, its value unit is 1).
    tiny = struct.pack("<5I", 16, 0x800, 0x80000000, 0x80000000, 0x901) + b"a\0"
    put("spm_charsmap", "tiny.bin", tiny + SEP + b"\x07\x01a\x01b")
    put("spm_double_array", "tiny.bin", tiny[4:20])
    for i, t in enumerate(french[:5] + texts[:5] + edge_b):
        put("spm_encode", f"text{i}.txt", bytes([i % 256]) + t)

    # cleaning, UTF-8
    for i, t in enumerate(edge_b + texts[:3]):
        put("cleaning", f"text{i}.txt", bytes([(37 * i) % 256]) + t)
        put("utf8", f"text{i}.txt", t)

    # TSV data sets: the first lines of each shared set, with an option byte
    for name, path, opt in (("sentiment", "sentiment/amazon_cells_labelled.txt", 0x00), ("sms", "sms-spam/SMSSpamCollection", 0x01),
                            ("pairs", "translation/eng-fra.20k.tsv", 0x08), ("regression", "sentiment/yelp_labelled.txt", 0x0A)):
        put("tsv", name + ".tsv", bytes([opt]) + b"\n".join(lines(os.path.join(DATA, path), 15)) + b"\n")
    put("tsv", "names.tsv", b"\x10text one\tpos\ntext two\tneg\n\n")

    # word vectors: with and without a "count dim" header, words with spaces
    put("word_vectors", "glove.txt", b"\x03the 0.1 0.2 0.3 0.4\ncat -1 2 3e-2 4\nDog 1 1 1 1\n")
    put("word_vectors", "word2vec.txt", b"\x1a2 3\nthe 1 2 3\na b 0.5 0.5 0.5\n")
    put("word_vectors", "crlf.txt", b"\x00x 1.5\r\n<pad> 0\r\n")


if __name__ == "__main__":
    main()
