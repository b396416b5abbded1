#!/bin/sh
# Regenerates tests/spm/fixtures: SentencePiece models trained with Debian's spm_train (package
# sentencepiece 0.1.97), the test texts, and what spm_encode / spm_decode print for them. The C++
# tests compare ctformer against these files, so CI needs no sentencepiece package. Run from
# anywhere:  tests/reference/spm_fixtures.sh [shared-data-dir]   (default ../shared/data)
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
data=$(cd "${1:-$repo/../shared/data}" && pwd)
out=$repo/tests/spm/fixtures
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

version=$(spm_encode --version 2>&1 || true)
echo "using: $version"
[ "$version" = "sentencepiece 0.1.97" ] || echo "warning: fixtures were recorded with sentencepiece 0.1.97" >&2

mkdir -p "$out"
rm -f "$out"/*.model "$out"/*.ids "$out"/*.decoded "$out"/*.nbest "$out"/*.sample "$out"/text_*.txt

# Training corpora, copied under short names so the paths stored in each model's trainer_spec
# are reproducible ("shakespeare.txt", "french.txt").
cp "$data/tinyshakespeare/input.txt" "$tmp/shakespeare.txt"
cut -f2 "$data/translation/eng-fra.20k.tsv" > "$tmp/french.txt"

# Test texts: a spread of corpus lines (every 64th Shakespeare line, every 32nd French line of the
# 20k file plus every 16th French line of the 5k file, which has unseen sentences and U+00A0) and
# a hand-made file of Unicode and whitespace edge cases, including invalid UTF-8.
python3 - "$data" "$out" <<'PY'
import sys, random
data, out = sys.argv[1], sys.argv[2]
sh = open(f"{data}/tinyshakespeare/input.txt", encoding="utf-8").read().split("\n")[:-1]
open(f"{out}/text_shakespeare.txt", "w", encoding="utf-8").write("".join(l + "\n" for l in sh[::64]))
fr20 = [l.split("\t")[1] for l in open(f"{data}/translation/eng-fra.20k.tsv", encoding="utf-8").read().split("\n")[:-1]]
fr5 = [l.split("\t")[1] for l in open(f"{data}/translation/eng-fra.attributed.5k.tsv", encoding="utf-8").read().split("\n")[:-1]]
open(f"{out}/text_french.txt", "w", encoding="utf-8").write("".join(l + "\n" for l in fr20[::32] + fr5[::16]))
edge = [
    "Hello world", "  leading and trailing spaces   ", "multiple    internal     spaces",
    "tabs\there\tand\tthere", "", "   ", "\t\t", "ＡＢＣ　ｄｅｆ　１２３", "ﬁnancial ﬂow ﬀ ﬃ ﬄ ﬅ ﬆ",
    "① ② ³ ½ ㎏ ™ ℃ Ⅻ ⅻ Ⅳ", "e\u0301 a\u0308 n\u0303 o\u0302 \u0301abc α\u0301",
    "Ça va ? Oui, très bien ! « guillemets » l’été", "Bonjour\u00a0! Ça\u202fva ?",
    "zero\u200bwidth\u200djoiner\ufeffbom\u200cnon", "ctrl\x01\x02\x7fchars\x0bvt\x1f",
    "carriage\rreturn", "\u2581 literal lower one eighth block \u2581\u2581", "⁇ question marks ??",
    "1234567890 3.14159 2024-01-01", "emoji 😀🎉👍🏽 family 👨\u200d👩\u200d👧",
    "日本語のテキスト、カタカナ、ひらがな", "한국어 텍스트 ㄱㄴㄷ ㅎㅏㄴ \u1100\u1161\u11a8",
    "Ελληνικά κείμενα и русский текст", "مرحبا بالعالم שלום", "ASCII+ünïcödé+ÆØÅ+ß+İı",
    "Supercalifragilisticexpialidocious" * 3, "!!!???...,,,;;;:::---___",
    "x² + y² = z²; ∑ ∫ √ ∞ ≠ ≤ ≥ <\u0338 =\u0338", "<unk> <s> </s> <pad> <mask> [SEP] <2fr>",
    "O Romeo, Romeo! wherefore art thou Romeo?", "où, déjà, garçon, cœur, naïve, Noël",
    "ｶﾀｶﾅ ﾊﾞﾅﾅ ～ ~ 〜", "Tiếng Việt có dấu", "ꙮꙮꙮ ᚠᛇᚻ ꙮ", "KING RICHARD III:", "\u3000\u3000ideographic spaces\u3000",
]
rng = random.Random(8)
words = "the of and to thou thee art king lord love la le de et je ne pas vous est".split()
edge.append(" ".join(rng.choice(words) for _ in range(400)))
lines = [l.encode("utf-8") for l in edge]
lines += [b"bad \xff\xfe bytes \xc3\x28 and \xe2\x82", b"surrogate \xed\xa0\x80 overlong \xc0\xaf end", b"\x80\x80 lone continuation"]
open(f"{out}/text_edge.txt", "wb").write(b"".join(l + b"\n" for l in lines))
PY

# Models: unigram at 1000 and 8000 with nmt_nfkc and identity on both corpora; a BPE model set up
# like Llama's (identity, byte fallback, split digits, whitespace kept); small unigram models with
# byte fallback, user-defined and control symbols, and with the other whitespace settings.
train() {  # name input-file spm_train-flags... (no `local` in POSIX sh: names are unique)
  t_name=$1
  t_input=$2
  shift 2
  (cd "$tmp" && spm_train --input="$t_input" --model_prefix="$t_name" --num_threads=1 --minloglevel=2 "$@")
  cp "$tmp/$t_name.model" "$out/$t_name.model"
}
for corpus in shakespeare french; do
  for size in 1000 8000; do
    for norm in nmt_nfkc identity; do
      # The French side has too few distinct substrings for 8000 pieces (spm_train stops at about
      # 5,500), so its vocab_size is a soft limit there.
      limit=true
      [ "$corpus$size" = french8000 ] && limit=false
      train "${corpus}_unigram${size}_${norm}" "$corpus.txt" --model_type=unigram \
        --vocab_size=$size --normalization_rule_name=$norm --hard_vocab_limit=$limit
    done
  done
done
train french_bpe1000_identity french.txt --model_type=bpe --vocab_size=1000 \
  --normalization_rule_name=identity --byte_fallback=true --split_digits=true \
  --remove_extra_whitespaces=false
train shakespeare_unigram1000_bytes shakespeare.txt --model_type=unigram --vocab_size=1000 \
  --normalization_rule_name=identity --byte_fallback=true --user_defined_symbols='<mask>,[SEP]' --control_symbols='<2fr>'
# Whitespace variants: U+2581 as a suffix; no dummy prefix and spaces kept as they are.
train shakespeare_unigram1000_suffix shakespeare.txt --model_type=unigram --vocab_size=1000 \
  --normalization_rule_name=identity --treat_whitespace_as_suffix=true
train french_unigram1000_noprefix french.txt --model_type=unigram --vocab_size=1000 \
  --normalization_rule_name=identity --add_dummy_prefix=false --remove_extra_whitespaces=false

# What spm_encode and spm_decode print. Each model encodes its own corpus sample and the edge
# cases; decoding runs on those ids and on random id sequences (every id, including control,
# unknown and byte pieces, at any position).
python3 - "$out" <<'PY'
import sys, glob, os, random, subprocess
out = sys.argv[1]
def run(args, data):
    return subprocess.run(args, input=data, stdout=subprocess.PIPE, check=True).stdout
for model in sorted(glob.glob(f"{out}/*.model")):
    name = os.path.basename(model)[:-6]
    corpus = name.split("_")[0]
    unigram = "_unigram" in name
    for text in (corpus, "edge"):
        src = open(f"{out}/text_{text}.txt", "rb").read()
        ids = run(["spm_encode", f"--model={model}", "--output_format=id"], src)
        open(f"{out}/{name}.{text}.ids", "wb").write(ids)
        open(f"{out}/{name}.{text}.decoded", "wb").write(
            run(["spm_decode", f"--model={model}", "--input_format=id"], ids))
        # Sampling is deterministic for a given --random_seed (one std::mt19937 for the run).
        lines = src.split(b"\n")[:-1]
        head = b"".join(l + b"\n" for l in lines[:100])
        if unigram:
            samples = [("sample", ["--nbest_size=-1", "--alpha=0.2"]),
                       ("nbsample", ["--nbest_size=8", "--alpha=0.5"])]
        else:
            samples = [("sample", ["--alpha=0.1"])]
        for tag, flags in samples:
            open(f"{out}/{name}.{text}.{tag}", "wb").write(run(
                ["spm_encode", f"--model={model}", "--output_format=sample_id", "--random_seed=1234"]
                + flags, head))
        if unigram:
            # N-best lists, one spm_encode run per line, each after a line "#<line index>"
            # (lines up to 200 bytes: five lists of a long line add size but no coverage).
            blocks = []
            for k, line in enumerate(lines[:40]):
                if len(line) > 200:
                    continue
                blocks.append(b"#%d\n" % k + run(["spm_encode", f"--model={model}",
                              "--output_format=nbest_id", "--nbest_size=5"], line + b"\n"))
            open(f"{out}/{name}.{text}.nbest", "wb").write(b"".join(blocks))
    vocab = [l.split(b"\t")[0] for l in subprocess.run(
        ["spm_export_vocab", f"--model={model}"], stdout=subprocess.PIPE, check=True).stdout.split(b"\n")[:-1]]
    # Every id but that of the byte piece <0x0A>, whose newline would split spm_decode's output.
    ids = [i for i, p in enumerate(vocab) if p != b"<0x0A>"]
    rng = random.Random(name)
    rand = [" ".join(str(rng.choice(ids)) for _ in range(rng.randrange(0, 12))) for _ in range(200)]
    rand_ids = "".join(l + "\n" for l in rand).encode()
    open(f"{out}/{name}.random.ids", "wb").write(rand_ids)
    open(f"{out}/{name}.random.decoded", "wb").write(
        run(["spm_decode", f"--model={model}", "--input_format=id"], rand_ids))
PY
du -sh "$out"
