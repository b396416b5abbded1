#!/usr/bin/python3
"""Writes the parity fixtures of tests/metrics/ (CI never runs this; the fixtures are committed).

Run from the repository root with Debian's Python (python3-sklearn 1.2.1, python3-nltk 3.8,
python3-numpy, python3-scipy):

    /usr/bin/python3 tests/reference/metrics_reference.py [--data ../shared/data]

Every case is drawn from a seeded generator, so a rerun writes byte-identical files. Where each
expected value comes from:

  classification.json  sklearn.metrics: accuracy_score, confusion_matrix(labels=range(C)),
                       precision_recall_fscore_support (average binary/micro/macro/weighted/None,
                       labels None or range(C), zero_division 0/1, beta 1/0.5/2).
  curves.json          sklearn.metrics: roc_curve (drop_intermediate True and False),
                       roc_auc_score, precision_recall_curve, average_precision_score,
                       roc_auc_score(multi_class="ovr", average macro/weighted/micro),
                       top_k_accuracy_score(labels=range(C)).
  regression.json      sklearn.metrics: mean_squared_error, mean_squared_error(squared=False),
                       mean_absolute_error, r2_score.
  ranking.json         sklearn.metrics: ndcg_score (k None or an int; ties averaged),
                       ndcg_score on each single query, average_precision_score(average="samples").
  language.json        scipy.special.log_softmax and numpy.argmax: mean NLL over targets that
                       are not -100, perplexity = exp(mean NLL), token accuracy.
  folds.json           sklearn.model_selection.KFold and StratifiedKFold (shuffle=False): the
                       test indices of every fold.
  bleu.json            "tokenizer" cases: 13a output of the port below (Python `re` with the
                       four mteval-v13a regular expressions that sacreBLEU documents), against
                       which the C++ byte-level passes are compared. "bleu" cases: the port of
                       sacreBLEU's BLEU (expected); every case is also checked here against NLTK:
                         - nltk.translate.bleu_score.modified_precision (clipped match counts
                           per order and per sentence) and closest_ref_length must give the
                           port's statistics exactly;
                         - where sacreBLEU's and NLTK's definitions coincide (every hypothesis
                           has at least max_order tokens, so NLTK's max(1, count) denominator
                           is the count; smoothing none = method0, floor(eps) = method1 with
                           epsilon=eps, add-k(1) = method2, exp = method3), nltk corpus_bleu /
                           sentence_bleu (x100) must equal the port within 1e-9; that value is
                           stored as "nltk" and the C++ test checks it too.
  sklearn_options.json sklearn.metrics with labels lists, arbitrary integer labels, sample
                       weights, normalize, averages and zero_division: confusion_matrix,
                       accuracy_score, precision_recall_fscore_support, top_k_accuracy_score
                       (also 1-D binary scores), label_ranking_average_precision_score,
                       weighted regression metrics; perplexity (numpy). "error": sklearn raises.
  bleu_nltk.json       nltk.translate.bleu_score corpus_bleu / sentence_bleu themselves over token
                       lists: weights, SmoothingFunction().method0..7 (epsilon, alpha, k),
                       auto_reweigh; "error" where NLTK raises.
  bleu_eng_fra.json    the first 500 pairs of translation/eng-fra.20k.tsv, hypotheses = the
                       French references perturbed by perturb() below. Expected: the port's
                       corpus BLEU (sacreBLEU defaults: 13a, exp smoothing) with its statistics,
                       checked against NLTK's per-sentence modified_precision counts; and, on
                       the pairs whose hypothesis has >= 4 tokens (where NLTK's corpus_bleu has
                       sacreBLEU's definition), NLTK's corpus_bleu x100 itself ("subset").
                       406 of the 500 French sides have fewer than 4 words, where NLTK's
                       corpus_bleu pads each missing order's denominator to 1 and so differs;
                       its value on all 500 is stored as "nltk_native_all" for information.
NaN is written as null (JSON has no NaN).
"""

import argparse
import json
import math
import os
import random
import re
import sys
import warnings
from collections import Counter
from fractions import Fraction

import numpy as np
import scipy.special
from nltk.translate import bleu_score as nb
from sklearn import metrics as skm
from sklearn.model_selection import KFold, StratifiedKFold

warnings.simplefilter("ignore")  # sklearn's UndefinedMetricWarning and NLTK's zero-count notes

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "metrics", "fixtures")


def clean(x):
    """Expected values for JSON: numpy scalars to Python, NaN to None (null), and floats cut to
    15 significant digits (a relative change below 1e-15, far inside the tests' 1e-9)."""
    if isinstance(x, dict):
        return {k: clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, np.ndarray)):
        return [clean(v) for v in x]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        return None if math.isnan(x) else float(f"{x:.15g}")
    return x


def dump(name, obj):
    path = os.path.join(OUT, name)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


# ---- classification ----------------------------------------------------------------------

def classification_cases(rng):
    cases = []
    kinds = ["binary", "imbalanced", "multiclass", "absent_in_true", "never_occurs", "single", "tiny"]
    for i in range(175):
        kind = kinds[i % len(kinds)]
        if kind in ("binary", "imbalanced"):
            n = int(rng.integers(2, 41))
            p = rng.uniform(0.3, 0.7) if kind == "binary" else rng.uniform(0.03, 0.12)
            y = (rng.random(n) < p).astype(int)
            flip = rng.random(n) < rng.uniform(0.0, 0.5)
            yp = np.where(flip, 1 - y, y)
            C = 2
        elif kind == "single":
            n = int(rng.integers(1, 20))
            c = int(rng.integers(0, 2))
            y = np.full(n, c)
            yp = y.copy() if rng.random() < 0.5 else np.where(rng.random(n) < 0.3, 1 - c, c)
            C = 2
        elif kind == "tiny":
            n = int(rng.integers(1, 4))
            C = int(rng.integers(2, 4))
            y = rng.integers(0, C, n)
            yp = rng.integers(0, C, n)
        else:
            C = int(rng.integers(3, 7))
            n = int(rng.integers(5, 41))
            probs = rng.dirichlet(np.ones(C) * 0.7)
            y = rng.choice(C, n, p=probs)
            right = rng.random(n) < rng.uniform(0.2, 0.9)
            yp = np.where(right, y, rng.integers(0, C, n))
            if kind == "absent_in_true":  # the last class is predicted but never true
                y = np.where(y == C - 1, 0, y)
                yp[int(rng.integers(0, n))] = C - 1
            if kind == "never_occurs":  # class C-1 occurs nowhere; labels=range(C) still scores it
                y = np.where(y == C - 1, 0, y)
                yp = np.where(yp == C - 1, 0, yp)
        y = [int(v) for v in y]
        yp = [int(v) for v in yp]
        exp = {
            "accuracy": skm.accuracy_score(y, yp),
            "confusion": skm.confusion_matrix(y, yp, labels=list(range(C))).tolist(),
            "prf": [],
        }
        binary_ok = set(y) | set(yp) <= {0, 1}
        # [labels, average, zero_division, beta, precision, recall, f]
        combos = [("present", "micro", 0, 1.0), ("present", "macro", 0, 1.0), ("present", "macro", 1, 1.0),
                  ("present", "macro", 0, 0.5), ("present", "macro", 0, 2.0), ("present", "weighted", 0, 1.0),
                  ("present", "weighted", 1, 1.0), ("all", "micro", 0, 1.0), ("all", "macro", 0, 1.0),
                  ("all", "macro", 1, 1.0), ("all", "weighted", 0, 1.0), ("all", "weighted", 1, 1.0)]
        if binary_ok:
            combos += [("present", "binary", 0, 1.0), ("present", "binary", 1, 1.0), ("present", "binary", 0, 2.0)]
        for labels_name, avg, zd, beta in combos:
            labels = None if labels_name == "present" else list(range(C))
            p, r, f, _ = skm.precision_recall_fscore_support(y, yp, labels=labels, average=avg, zero_division=zd,
                                                             beta=beta)
            exp["prf"].append([labels_name, avg, zd, beta, p, r, f])
        p, r, f, s = skm.precision_recall_fscore_support(y, yp, average=None, zero_division=0)
        exp["per_class"] = {"labels": sorted(set(y) | set(yp)), "p": p.tolist(), "r": r.tolist(),
                            "f": f.tolist(), "support": s.tolist()}
        cases.append({"kind": kind, "num_classes": C, "y_true": y, "y_pred": yp, "expected": clean(exp)})
    return cases


# ---- scores: ROC, PR, AP, multiclass AUC, top-k -------------------------------------------

def score_vector(rng, y, style):
    n = len(y)
    signal = rng.uniform(0, 2)
    s = rng.normal(size=n) + signal * y
    if style == "round1":      # many ties
        s = np.round(s, 1)
    elif style == "integers":  # heavy ties
        s = np.clip(np.round(s), -1, 2)
    elif style == "constant":  # one tie across every sample
        s = np.full(n, 0.25)
    elif style == "probs":
        s = 1 / (1 + np.exp(-s))
    return np.round(s, 6)  # short inputs; ties only where a style makes them


def binary_curve_cases(rng):
    cases = []
    styles = ["continuous", "round1", "integers", "constant", "probs"]
    for i in range(170):
        style = styles[i % len(styles)]
        n = int(rng.integers(2, 41))
        kind = ["balanced", "imbalanced", "one_positive", "all_positive", "all_negative"][i % 23 % 5]
        if kind == "balanced":
            y = (rng.random(n) < 0.5).astype(int)
        elif kind == "imbalanced":
            y = (rng.random(n) < 0.08).astype(int)
        elif kind == "one_positive":
            y = np.zeros(n, dtype=int)
            y[int(rng.integers(0, n))] = 1
        elif kind == "all_positive":
            y = np.ones(n, dtype=int)
        else:
            y = np.zeros(n, dtype=int)
        s = score_vector(rng, y, style)
        exp = {}
        for drop in (True, False):
            fpr, tpr, thr = skm.roc_curve(y, s, drop_intermediate=drop)
            exp["roc_drop" if drop else "roc_full"] = {"fpr": fpr.tolist(), "tpr": tpr.tolist(),
                                                        "thresholds": thr.tolist()}
        exp["roc_auc"] = skm.roc_auc_score(y, s) if len(set(y.tolist())) == 2 else None
        p, r, t = skm.precision_recall_curve(y, s)
        exp["pr"] = {"precision": p.tolist(), "recall": r.tolist(), "thresholds": t.tolist()}
        exp["average_precision"] = skm.average_precision_score(y, s)
        cases.append({"style": style, "kind": kind, "y_true": y.tolist(), "scores": s.tolist(),
                      "expected": clean(exp)})
    return cases


def multiclass_auc_cases(rng):
    cases = []
    for i in range(60):
        C = int(rng.integers(3, 6))
        n = int(rng.integers(C + 2, 61))
        y = np.concatenate([np.arange(C), rng.integers(0, C, n - C)])  # every class occurs
        rng.shuffle(y)
        logits = rng.normal(size=(n, C)) + np.eye(C)[y] * rng.uniform(0, 2)
        if i % 3 == 1:
            logits = np.round(logits, 1)  # ties in the per-class scores
        prob = np.round(scipy.special.softmax(logits, axis=1), 7)  # rows still sum to 1 within 1e-6
        exp = {a: skm.roc_auc_score(y, prob, multi_class="ovr", average=a) for a in ("macro", "weighted", "micro")}
        cases.append({"num_classes": C, "y_true": y.tolist(), "probs": prob.ravel().tolist(), "expected": clean(exp)})
    return cases


def top_k_cases(rng):
    cases = []
    for i in range(100):
        C = int(rng.integers(3, 8))
        n = int(rng.integers(1, 41))
        y = rng.integers(0, C, n)
        if i % 2 == 0:
            s = rng.integers(0, 4, size=(n, C)).astype(float)  # many ties
        else:
            s = np.round(rng.normal(size=(n, C)), 1)
        k = int(rng.integers(1, C + 1))
        exp = skm.top_k_accuracy_score(y, s, k=k, labels=list(range(C)))
        cases.append({"num_classes": C, "k": k, "y_true": y.tolist(), "scores": s.ravel().tolist(),
                      "expected": clean(exp)})
    return cases


# ---- regression ----------------------------------------------------------------------------

def regression_cases(rng):
    cases = []
    for i in range(120):
        kind = ["normal", "offset", "single", "constant_perfect", "constant_off", "tiny"][i % 6]
        n = {"single": 1, "tiny": 2}.get(kind, int(rng.integers(3, 51)))
        if kind in ("constant_perfect", "constant_off"):
            y = np.full(n, 2.5)
            p = y.copy() if kind == "constant_perfect" else np.round(y + rng.normal(size=n), 4)
        else:
            scale = 10 ** rng.uniform(-2, 3)
            off = 1e4 if kind == "offset" else 0.0
            y = off + scale * rng.normal(size=n)
            p = y + scale * rng.uniform(0, 1.5) * rng.normal(size=n)
            y = np.array([float(f"{v:.7g}") for v in y])  # short inputs
            p = np.array([float(f"{v:.7g}") for v in p])
        exp = {
            "mse": skm.mean_squared_error(y, p),
            "rmse": skm.mean_squared_error(y, p, squared=False),
            "mae": skm.mean_absolute_error(y, p),
            "r2": skm.r2_score(y, p),
        }
        cases.append({"kind": kind, "y_true": y.tolist(), "y_pred": p.tolist(), "expected": clean(exp)})
    return cases


# ---- ranking -------------------------------------------------------------------------------

def ranking_cases(rng):
    cases = []
    for i in range(160):
        q = int(rng.integers(1, 7))
        d = int(rng.integers(2, 13))
        rel_kind = ["graded", "binary", "float", "zero_rows"][i % 4]
        if rel_kind == "graded":
            rel = rng.integers(0, 4, size=(q, d)).astype(float)
        elif rel_kind == "float":
            rel = np.round(rng.uniform(0, 3, size=(q, d)), 2)
        else:
            rel = (rng.random((q, d)) < 0.35).astype(float)
        if rel_kind == "zero_rows" or i % 7 == 0:
            rel[int(rng.integers(0, q))] = 0.0  # a query with no relevant document
        score_kind = ["continuous", "ties", "integers"][i % 3]
        s = np.round(rng.normal(size=(q, d)) + 0.5 * rel, 4)
        if score_kind == "ties":
            s = np.round(s, 0) / 2
        elif score_kind == "integers":
            s = rng.integers(0, 3, size=(q, d)).astype(float)
        k = [None, 1, 3, 5, d + 2][i % 5]
        exp = {
            "ndcg": skm.ndcg_score(rel, s, k=k),
            "per_query": [skm.ndcg_score(rel[j:j + 1], s[j:j + 1], k=k) for j in range(q)],
        }
        if rel_kind in ("binary", "zero_rows"):
            exp["map"] = skm.average_precision_score(rel.astype(int), s, average="samples")
        cases.append({"docs": d, "k": k, "relevance": rel.ravel().tolist(), "scores": s.ravel().tolist(),
                      "expected": clean(exp)})
    return cases


# ---- language ------------------------------------------------------------------------------

def language_cases(rng):
    cases = []
    for i in range(60):
        n = int(rng.integers(1, 31))
        v = int(rng.integers(2, 17))
        scale = [1.0, 5.0, 30.0][i % 3]
        logits = np.round(rng.normal(size=(n, v)) * scale, 4)
        if i % 10 == 9:
            logits = np.round(logits)  # ties: argmax takes the first
        targets = rng.integers(0, v, n)
        pad = rng.random(n) < 0.3
        pad[int(rng.integers(0, n))] = False  # at least one real token
        targets = np.where(pad, -100, targets)
        real = targets != -100
        lsm = scipy.special.log_softmax(logits, axis=1)
        nll = -lsm[np.arange(n)[real], targets[real]]
        exp = {
            "tokens": int(real.sum()),
            "loss": float(nll.mean()),
            "perplexity": float(np.exp(nll.mean())),
            "token_accuracy": float((np.argmax(logits, axis=1)[real] == targets[real]).mean()),
        }
        cases.append({"vocab": v, "targets": targets.tolist(), "logits": logits.ravel().tolist(),
                      "expected": clean(exp)})
    return cases


# ---- folds ---------------------------------------------------------------------------------

def fold_cases(rng):
    cases = []
    for i in range(40):
        n = int(rng.integers(4, 40))
        k = int(rng.integers(2, min(n, 7) + 1))
        tests = [t.tolist() for _, t in KFold(n_splits=k).split(np.zeros(n))]
        cases.append({"type": "kfold", "n": n, "k": k, "test": tests})
    for i in range(40):
        C = int(rng.integers(2, 5))
        n = int(rng.integers(8, 60))
        probs = rng.dirichlet(np.ones(C))
        labels = rng.choice(C, n, p=probs) * 3 - 1  # labels such as -1, 2, 5: not 0..C-1
        counts = Counter(labels.tolist())
        k = int(rng.integers(2, 6))
        if max(counts.values()) < k:
            k = max(counts.values())
        if k < 2:
            continue
        tests = [t.tolist() for _, t in StratifiedKFold(n_splits=k).split(np.zeros(n), labels)]
        cases.append({"type": "stratified", "labels": labels.tolist(), "k": k, "test": tests})
    return cases


# ---- BLEU: a port of sacreBLEU's semantics, checked against NLTK ---------------------------

# mteval-v13a's four regular expressions, as sacreBLEU's tokenizer applies them in order.
RE_13A = [
    (re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])"), r" \1 "),
    (re.compile(r"([^0-9])([\.,])"), r"\1 \2 "),
    (re.compile(r"([\.,])([^0-9])"), r" \1 \2"),
    (re.compile(r"([0-9])(-)"), r"\1 \2 "),
]


def tok13a(line):
    for a, b in (("<skipped>", ""), ("-\n", ""), ("\n", " "), ("&quot;", '"'), ("&amp;", "&"),
                 ("&lt;", "<"), ("&gt;", ">")):
        line = line.replace(a, b)
    line = " " + line + " "
    for pattern, repl in RE_13A:
        line = pattern.sub(repl, line)
    return " ".join(line.split())


def prep(segment, tokenize):
    segment = segment.rstrip()
    return tok13a(segment) if tokenize == "13a" else " ".join(segment.split())


def ngram_counts(tokens, n):
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def sentence_stats(hyp, refs, order, tokenize):
    h = prep(hyp, tokenize).split()
    rs = [prep(r, tokenize).split() for r in refs]
    ref_len, best = None, None
    for r in rs:
        diff = abs(len(h) - len(r))
        if best is None or diff < best or (diff == best and len(r) < ref_len):
            best, ref_len = diff, len(r)
    correct, total = [0] * order, [0] * order
    for n in range(1, order + 1):
        hc = ngram_counts(h, n)
        mx = Counter()
        for r in rs:
            for g, c in ngram_counts(r, n).items():
                mx[g] = max(mx[g], c)
        for g, c in hc.items():
            total[n - 1] += c
            correct[n - 1] += min(c, mx[g])
    return len(h), ref_len, correct, total, h, rs


def compute_bleu(correct, total, sys_len, ref_len, smooth, value, eff, order):
    if value is None:
        value = {"floor": 0.1, "add-k": 1}.get(smooth)
    bp = (math.exp(1 - ref_len / sys_len) if sys_len > 0 else 0.0) if sys_len < ref_len else 1.0
    prec = [0.0] * order
    if not any(correct):
        return 0.0, bp, prec
    correct, total = list(correct), list(total)
    mteval, eff_order = 1.0, order
    for n in range(1, order + 1):
        if smooth == "add-k" and n > 1:
            correct[n - 1] += value
            total[n - 1] += value
        if total[n - 1] == 0:
            break
        if eff:
            eff_order = n
        if correct[n - 1] == 0:
            if smooth == "exp":
                mteval *= 2
                prec[n - 1] = 100.0 / (mteval * total[n - 1])
            elif smooth == "floor":
                prec[n - 1] = 100.0 * value / total[n - 1]
        else:
            prec[n - 1] = 100.0 * correct[n - 1] / total[n - 1]
    logs = [(-9999999999 if p == 0.0 else math.log(p)) for p in prec[:eff_order]]
    return bp * math.exp(sum(logs) / eff_order), bp, prec


def corpus_port(hyps, refs, smooth="exp", value=None, eff=False, order=4, tokenize="13a"):
    sys_len = ref_len = 0
    correct, total = [0] * order, [0] * order
    toks = []
    for h, rs in zip(hyps, refs):
        a, b, c, t, ht, rt = sentence_stats(h, rs, order, tokenize)
        sys_len += a
        ref_len += b
        correct = [x + y for x, y in zip(correct, c)]
        total = [x + y for x, y in zip(total, t)]
        toks.append((ht, rt))
    score, bp, prec = compute_bleu(correct, total, sys_len, ref_len, smooth, value, eff, order)
    return {"score": score, "bp": bp, "precisions": prec, "correct": correct, "total": total,
            "sys_len": sys_len, "ref_len": ref_len}, toks


def nltk_count_check(toks, port, order):
    """NLTK's clipped counts and closest reference lengths must give the port's statistics."""
    correct = [0] * order
    ref_len = 0
    for h, rs in toks:
        for n in range(1, order + 1):
            correct[n - 1] += nb.modified_precision(rs, h, n).numerator
        ref_len += nb.closest_ref_length(rs, len(h))
    assert correct == port["correct"], (correct, port["correct"])
    assert ref_len == port["ref_len"], (ref_len, port["ref_len"])


def nltk_value(toks, smooth, value, order, sentence):
    """NLTK's BLEU x100 where its definition equals sacreBLEU's, else None."""
    if any(len(h) < order for h, _ in toks):
        return None
    sf = nb.SmoothingFunction(epsilon=value if value is not None else 0.1)
    fn = {"none": sf.method0, "floor": sf.method1, "exp": sf.method3}.get(smooth)
    if smooth == "add-k" and (value is None or value == 1):
        fn = sf.method2
    if fn is None:
        return None
    w = tuple([1.0 / order] * order)
    if sentence:
        h, rs = toks[0]
        return 100 * nb.sentence_bleu(rs, h, weights=w, smoothing_function=fn)
    return 100 * nb.corpus_bleu([rs for _, rs in toks], [h for h, _ in toks], weights=w, smoothing_function=fn)


WORDS = ["the", "cat", "sat", "on", "mat", "a", "dog", "bit", "man", "it", "was", "not", "Le", "chat",
         "été", "naïve", "don't", "U.S.", "co-op", "3.5", "1,000", "10-20", "e-mail", "x", "y", "z"]
PUNCT = [".", ",", "!", "?", ";", ":", "(", ")", '"', "'", "-", "/", "&amp;", "&quot;", "&lt;", "&gt;",
         "<skipped>", "$", "%", "@", "#", "[", "]", "{", "}", "~", "^", "_", "`", "|", "\\", "+", "=", "*"]
SPACES = [" ", " ", " ", " ", "  ", "\t", "\u00a0", "\u202f", "\u3000", "\n", "-\n"]


def random_text(r, lo=0, hi=14):
    parts = []
    for _ in range(r.randint(lo, hi)):
        w = r.choice(WORDS)
        roll = r.random()
        if roll < 0.25:
            w = w + r.choice(PUNCT)
        elif roll < 0.35:
            w = r.choice(PUNCT) + w
        elif roll < 0.40:
            w = r.choice(PUNCT)
        parts.append(w)
        parts.append(r.choice(SPACES))
    return "".join(parts)


def perturb_words(r, text):
    w = text.split(" ")
    for _ in range(r.randint(0, 3)):
        op = r.random()
        if op < 0.3 and len(w) > 1:
            del w[r.randrange(len(w))]
        elif op < 0.6 and w:
            w[r.randrange(len(w))] = r.choice(WORDS)
        elif op < 0.8 and len(w) > 1:
            i = r.randrange(len(w) - 1)
            w[i], w[i + 1] = w[i + 1], w[i]
        else:
            w.insert(r.randrange(len(w) + 1), r.choice(WORDS))
    return " ".join(w)


def bleu_fixture():
    r = random.Random(20240601)
    tok_cases = []
    for i in range(200):
        s = random_text(r, 0, 12)
        if i % 10 == 0:
            s = s + "  \u202f\n"  # trailing whitespace of several kinds
        tok_cases.append({"text": s, "expected": tok13a(s)})
    for s in ["Hello, world.", "It's 3.5 km (or 2,000 m)-long.", "a.b,c", "1-2 3 -4 x-y", "&amp;lt; &quot;q&quot;",
              "e.g., U.S.A.", "Ça alors\u202f!", "a-\nb", "<skipped>x", "5.,6", "..,,..", ".5", "$5.00!", ""]:
        tok_cases.append({"text": s, "expected": tok13a(s)})

    settings = [("none", None), ("floor", None), ("floor", 0.5), ("add-k", None), ("add-k", 2.0), ("exp", None)]
    bleu_cases = []
    for i in range(240):
        sentence = i % 3 == 0
        n_seg = 1 if sentence else r.randint(1, 6)
        n_ref = r.randint(1, 3)
        long_only = i % 2 == 1  # these cases let NLTK's own BLEU apply
        refs, hyps = [], []
        for _ in range(n_seg):
            base = random_text(r, 4 if long_only else 0, 14)
            rs = [base] + [perturb_words(r, base) for _ in range(n_ref - 1)]
            h = perturb_words(r, base) if r.random() < 0.85 else random_text(r, 0, 10)
            if long_only and len(prep(h, "13a").split()) < 4:
                h = h + " and so on and on"
            if i % 37 == 5:
                h = ""  # an empty hypothesis counts (sacreBLEU keeps it)
            refs.append(rs)
            hyps.append(h)
        smooth, value = settings[i % len(settings)]
        eff = sentence if i % 5 else not sentence  # mostly sacreBLEU's defaults, sometimes not
        tokenize = "13a" if i % 11 else "none"
        order = 4 if i % 13 else 3
        port, toks = corpus_port(hyps, refs, smooth, value, eff, order, tokenize)
        nltk_count_check(toks, port, order)
        nv = nltk_value(toks, smooth, value, order, sentence)
        if nv is not None:
            assert abs(nv - port["score"]) <= 1e-9, (i, nv, port["score"])
        case = {"level": "sentence" if sentence else "corpus", "hypotheses": hyps, "references": refs,
                "smooth": smooth, "smooth_value": value, "effective_order": eff, "tokenize": tokenize,
                "max_order": order, "expected": clean(port), "nltk": clean(nv)}
        bleu_cases.append(case)
    checked = sum(c["nltk"] is not None for c in bleu_cases)
    print(f"bleu: {len(bleu_cases)} cases, {checked} also equal to NLTK's own BLEU within 1e-9")
    return {"tokenizer": tok_cases, "bleu": bleu_cases}


# The documented perturbation of eng-fra.20k.tsv's French side (the C++ test repeats it):
# split on ' ' and, by pair index i (0-based), 0: keep; 1: drop the last word; 2: swap the
# first two words; 3: repeat the last word; 4: insert "très" before the last word. Operations
# that need two words leave one-word sentences unchanged.
def perturb(i, fr):
    w = fr.split(" ")
    op = i % 5
    if op == 1 and len(w) > 1:
        w = w[:-1]
    elif op == 2 and len(w) > 1:
        w[0], w[1] = w[1], w[0]
    elif op == 3:
        w = w + [w[-1]]
    elif op == 4 and len(w) > 1:
        w = w[:-1] + ["très", w[-1]]
    return " ".join(w)


def eng_fra_fixture(data_dir):
    path = os.path.join(data_dir, "translation", "eng-fra.20k.tsv")
    with open(path, encoding="utf-8", newline="\n") as f:
        lines = f.read().split("\n")[:500]
    fr = [l.split("\t")[1] for l in lines]
    hyps = [perturb(i, s) for i, s in enumerate(fr)]
    refs = [[s] for s in fr]
    port, toks = corpus_port(hyps, refs)
    nltk_count_check(toks, port, 4)
    keep = [j for j, (h, _) in enumerate(toks) if len(h) >= 4]
    sub, sub_toks = corpus_port([hyps[j] for j in keep], [refs[j] for j in keep])
    nltk_sub = 100 * nb.corpus_bleu([rs for _, rs in sub_toks], [h for h, _ in sub_toks])
    assert abs(nltk_sub - sub["score"]) <= 1e-9, (nltk_sub, sub["score"])
    native = 100 * nb.corpus_bleu([rs for _, rs in toks], [h for h, _ in toks],
                                  smoothing_function=nb.SmoothingFunction().method3)
    print(f"eng-fra: BLEU {port['score']:.6f} on 500 pairs; subset of {len(keep)} pairs: "
          f"port {sub['score']:.9f}, nltk {nltk_sub:.9f}")
    return {"file": "translation/eng-fra.20k.tsv", "pairs": 500,
            "perturbation": "split on ' '; by index i: i%5==0 keep, 1 drop last word, 2 swap first two words, "
                            "3 repeat last word, 4 insert 'très' before the last word (1-2 and 4 need >= 2 words)",
            "first_hypotheses": hyps[:6],
            "expected": clean(port),
            "subset": {"indices": keep, "expected": clean(sub), "nltk": nltk_sub},
            "nltk_native_all": native}


def sklearn_options_fixture():
    """sklearn.metrics with the options of sklearn_options.json: arbitrary integer labels, a
    labels list (order and subset), sample weights, normalize, averages, zero_division; LRAP;
    top-k with normalize and 1-D binary scores; weighted regression; perplexity (numpy)."""
    r = np.random.default_rng(1206)
    out = {"confusion": [], "prf": [], "accuracy": [], "top_k": [], "lrap": [], "regression": [], "perplexity": []}
    label_sets = [[0, 1], [0, 1, 2], [10, 20, 30], [-1, 1], [3, 7, 9, 12]]
    for i in range(120):
        ls = label_sets[i % len(label_sets)]
        n = int(r.integers(5, 40))
        yt = r.choice(ls, n).tolist()
        yp = [v if r.random() < 0.6 else int(r.choice(ls)) for v in yt]
        w = (r.random(n) * 2).round(3).tolist() if i % 3 else None
        labels = None
        if i % 4 == 1:
            labels = list(ls)
            r.shuffle(labels)
        elif i % 4 == 2 and len(ls) > 2:
            labels = [int(v) for v in r.choice(ls, len(ls) - 1, replace=False)]
        norm = [None, "true", "pred", "all"][i % 4]
        try:
            cm = skm.confusion_matrix(yt, yp, labels=labels, sample_weight=w, normalize=norm)
            cm_expected = clean(cm.astype(float).ravel().tolist())
            cm_labels = clean(labels if labels is not None else sorted(set(yt) | set(yp)))
        except ValueError:
            cm_expected, cm_labels = "error", None
        out["confusion"].append({"y_true": yt, "y_pred": yp, "weights": w, "labels": labels, "normalize": norm,
                                 "expected": cm_expected, "expected_labels": cm_labels})
        out["accuracy"].append({"y_true": yt, "y_pred": yp, "weights": w, "normalize": bool(i % 2),
                                "expected": clean(skm.accuracy_score(yt, yp, normalize=bool(i % 2), sample_weight=w))})
        for avg in [None, "binary", "micro", "macro", "weighted"]:
            beta = [1.0, 0.5, 2.0][i % 3]
            zd = [0, 1][i % 2]
            pos = ls[-1]
            try:
                p, rc, f, sup = skm.precision_recall_fscore_support(yt, yp, beta=beta, labels=labels, pos_label=pos,
                                                                    average=avg, sample_weight=w, zero_division=zd)
                exp = {"precision": clean(np.atleast_1d(p).tolist()), "recall": clean(np.atleast_1d(rc).tolist()),
                       "fbeta": clean(np.atleast_1d(f).tolist()),
                       "support": None if sup is None else clean(np.asarray(sup, dtype=float).tolist())}
            except ValueError:
                exp = "error"
            out["prf"].append({"y_true": yt, "y_pred": yp, "weights": w, "labels": labels, "average": avg,
                               "beta": beta, "zero_division": zd, "pos_label": pos, "expected": exp})
    for i in range(80):
        c = [1, 3, 4, 6][i % 4]
        n = int(r.integers(6, 30))
        if c == 1:
            yt = r.integers(0, 2, n)
            if len(set(yt.tolist())) < 2:
                yt[0], yt[1] = 0, 1
            sc = r.random(n) if i % 8 < 4 else r.normal(size=n)
            scores = sc.round(2)
            k = [1, 2][i % 2]
            labels_arg = None
        else:
            yt = r.integers(0, c, n)
            yt[:c] = np.arange(c)
            scores = r.random((n, c)).round(1)  # ties on purpose
            k = int(r.integers(1, c))
        w = (r.random(n) * 2).round(3).tolist() if i % 3 else None
        norm = bool(i % 5)
        kwargs = {"k": k, "normalize": norm, "sample_weight": w}
        if c > 1:
            kwargs["labels"] = list(range(c))
        v = skm.top_k_accuracy_score(yt, scores, **kwargs)
        out["top_k"].append({"y_true": yt.tolist(), "scores": scores.ravel().tolist(), "classes": c, "k": k,
                             "normalize": norm, "weights": w, "expected": clean(v)})
    for i in range(80):
        n, L = int(r.integers(1, 12)), int(r.integers(2, 7))
        yt = (r.random((n, L)) < 0.4).astype(int)
        scores = r.random((n, L)).round(1)
        w = (r.random(n) * 2).round(3).tolist() if i % 2 else None
        out["lrap"].append({"y_true": yt.ravel().tolist(), "scores": scores.ravel().tolist(), "labels": L,
                            "weights": w,
                            "expected": clean(skm.label_ranking_average_precision_score(yt, scores, sample_weight=w))})
    for i in range(60):
        n = int(r.integers(2, 30))
        yt = r.normal(size=n).round(3)
        if i % 10 == 0:
            yt[:] = 1.5
        yp = (yt + r.normal(scale=0.5, size=n)).round(3) if i % 7 else yt.copy()
        w = (r.random(n) * 2).round(3).tolist() if i % 2 else None
        out["regression"].append({"y_true": yt.tolist(), "y_pred": yp.tolist(), "weights": w,
                                  "mse": clean(skm.mean_squared_error(yt, yp, sample_weight=w)),
                                  "rmse": clean(skm.mean_squared_error(yt, yp, sample_weight=w, squared=False)),
                                  "mae": clean(skm.mean_absolute_error(yt, yp, sample_weight=w)),
                                  "r2": clean(skm.r2_score(yt, yp, sample_weight=w))})
    for i in range(30):
        n = int(r.integers(1, 40))
        lp = np.log(r.random(n) * 0.99 + 0.01).round(6)
        mask = (r.random(n) < 0.7).astype(int)
        mask[0] = 1
        out["perplexity"].append({"log_probs": lp.tolist(), "mask": mask.tolist(),
                                  "expected": clean(float(np.exp(-(lp * mask).sum() / mask.sum())))})
    return out


def nltk_bleu_fixture():
    """NLTK's own BLEU (nltk.translate.bleu_score corpus_bleu / sentence_bleu over token lists):
    random corpora over a small vocabulary (so n-grams overlap), 1-3 references per segment,
    hypotheses of 0-9 tokens, several weight vectors, SmoothingFunction().method0..method7 with
    default and changed epsilon / alpha / k, auto_reweigh on and off. Expected: the value, or
    "error" where NLTK raises (method6 on a zero trigram precision)."""
    r = random.Random(20261206)
    vocab = ["the", "a", "cat", "dog", "sat", "on", "mat", "ran", "and", "big", ".", ","]
    weight_sets = [(0.25, 0.25, 0.25, 0.25), (0.5, 0.5), (1 / 3, 1 / 3, 1 / 3), (0.1, 0.2, 0.3, 0.4),
                   (1.0,), (0.2, 0.2, 0.2, 0.2, 0.2)]
    params = [(0.1, 5, 5), (0.01, 3, 2)]
    cases = []
    for i in range(400):
        n_seg = 1 if i % 4 == 0 else r.randint(1, 5)
        refs, hyps = [], []
        for _ in range(n_seg):
            base = [r.choice(vocab) for _ in range(r.randint(1, 9))]
            seg_refs = []
            for _ in range(r.randint(1, 3)):
                ref = list(base)
                for _ in range(r.randint(0, 3)):
                    op = r.random()
                    if op < 0.4 and len(ref) > 1:
                        del ref[r.randrange(len(ref))]
                    elif op < 0.7:
                        ref.insert(r.randrange(len(ref) + 1), r.choice(vocab))
                    else:
                        ref[r.randrange(len(ref))] = r.choice(vocab)
                seg_refs.append(ref)
            hyp = [t for t in base if r.random() < 0.85]
            if r.random() < 0.3:
                hyp += [r.choice(vocab) for _ in range(r.randint(0, 3))]
            if r.random() < 0.05:
                hyp = []
            refs.append(seg_refs)
            hyps.append(hyp[:9])
        weights = weight_sets[r.randrange(len(weight_sets))]
        method = i % 8
        eps, alpha, k = params[r.randrange(2)]
        auto = r.random() < 0.3
        sentence = n_seg == 1 and r.random() < 0.5
        sf = getattr(nb.SmoothingFunction(epsilon=eps, alpha=alpha, k=k), f"method{method}")
        try:
            if sentence:
                value = nb.sentence_bleu(refs[0], hyps[0], weights, sf, auto)
            else:
                value = nb.corpus_bleu(refs, hyps, weights, sf, auto)
            expected = clean(float(value))
        except Exception:  # AssertionError (method6), IndexError (method6 below order 3)
            expected = "error"
        cases.append({"references": refs, "hypotheses": hyps, "weights": list(weights), "method": method,
                      "epsilon": eps, "alpha": alpha, "k": k, "auto_reweigh": auto, "sentence": sentence,
                      "expected": expected})
    return {"cases": cases}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(HERE, "..", "..", "..", "shared", "data"))
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(6)
    dump("classification.json", {"cases": classification_cases(rng)})
    dump("curves.json", {"binary": binary_curve_cases(rng), "multiclass_auc": multiclass_auc_cases(rng),
                         "top_k": top_k_cases(rng)})
    dump("regression.json", {"cases": regression_cases(rng)})
    dump("ranking.json", {"cases": ranking_cases(rng)})
    dump("language.json", {"cases": language_cases(rng)})
    dump("folds.json", {"cases": fold_cases(rng)})
    dump("bleu.json", bleu_fixture())
    dump("bleu_eng_fra.json", eng_fra_fixture(args.data))
    dump("bleu_nltk.json", nltk_bleu_fixture())
    dump("sklearn_options.json", sklearn_options_fixture())


if __name__ == "__main__":
    sys.exit(main())
