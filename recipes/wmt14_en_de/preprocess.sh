#!/usr/bin/env bash
# Moses tokenization (sacremoses), joint BPE (subword-nmt), cleaning and fairseq binarization of
# raw parallel text, as in fairseq's prepare-wmt14en2de.sh.
# usage: preprocess.sh RAW OUT BPE_MERGES
#   RAW holds train.{en,de}, valid.{en,de}, test.{en,de}: plain text, one sentence per line.
#   OUT/bin is the fairseq data directory (joined dictionary), written as a whole (OUT/bin.part until
#   done); a rerun keeps an OUT/bin made earlier. OUT/tok and OUT/bpe keep the steps.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../toolkit_path.sh"
raw=$1 out=$2 merges=$3
if [ -d "$out/bin" ]; then
    echo "binarized data in $out/bin (made earlier; delete it to make it again)"
    exit 0
fi
workers=${WORKERS:-$(nproc)}
mkdir -p "$out/tok" "$out/bpe"

for split in train valid test; do
    for l in en de; do
        echo "tokenizing $split.$l"
        # normalize-punctuation, remove-non-printing-char, tokenizer -a (aggressive hyphen splitting)
        sacremoses -q -l $l -j "$workers" normalize < "$raw/$split.$l" \
            | perl -CSD -pe 's/(?!\n)\p{C}/ /g' \
            | sacremoses -q -l $l -j "$workers" tokenize -a -x > "$out/tok/$split.$l"
    done
done

echo "learning $merges joint BPE merges"
subword-nmt learn-joint-bpe-and-vocab --input "$out/tok/train.en" "$out/tok/train.de" -s "$merges" \
    -o "$out/bpe/codes" --write-vocabulary "$out/bpe/vocab.en" "$out/bpe/vocab.de"
for split in train valid test; do
    for l in en de; do
        subword-nmt apply-bpe -c "$out/bpe/codes" < "$out/tok/$split.$l" > "$out/bpe/$split.$l"
    done
done

echo "cleaning the training set (1-250 tokens, length ratio <= 1.5)"
python - "$out/bpe/train" "$out/bpe/train.clean" <<'PY'
import sys
src, out = sys.argv[1], sys.argv[2]
with open(src + ".en") as en, open(src + ".de") as de, open(out + ".en", "w") as oen, open(out + ".de", "w") as ode:
    for e, d in zip(en, de):
        ne, nd = len(e.split()), len(d.split())
        if 1 <= ne <= 250 and 1 <= nd <= 250 and max(ne, nd) <= 1.5 * min(ne, nd):
            oen.write(e)
            ode.write(d)
PY

rm -rf "$out/bin.part"  # a killed run's
fairseq-preprocess --source-lang en --target-lang de --joined-dictionary --workers "$workers" \
    --trainpref "$out/bpe/train.clean" --validpref "$out/bpe/valid" --testpref "$out/bpe/test" \
    --destdir "$out/bin.part"
mv "$out/bin.part" "$out/bin"
echo "binarized data in $out/bin"
