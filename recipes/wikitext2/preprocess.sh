#!/usr/bin/env bash
# Binarize word-level language-modeling text for fairseq (a single dictionary, as fairseq's
# Wikitext-103 example: fairseq-preprocess --only-source).
# usage: preprocess.sh RAW OUT
#   RAW holds wiki.train.tokens, wiki.valid.tokens, wiki.test.tokens (Wikitext's layout): tokenized
#   text, one paragraph a line, rare words already replaced by <unk>.
#   OUT/bin is the fairseq data directory (dict.txt, {train,valid,test}.{bin,idx}), written as a whole
#   (OUT/bin.part until done); a rerun keeps an OUT/bin made earlier.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../toolkit_path.sh"
raw=$1 out=$2
if [ -d "$out/bin" ]; then
    echo "binarized data in $out/bin (made earlier; delete it to make it again)"
    exit 0
fi
for split in train valid test; do
    if [ ! -s "$raw/wiki.$split.tokens" ]; then
        echo "missing or empty: $raw/wiki.$split.tokens" >&2
        exit 1
    fi
done
rm -rf "$out/bin.part"  # a killed run's
fairseq-preprocess --only-source --workers "${WORKERS:-$(nproc)}" \
    --trainpref "$raw/wiki.train.tokens" --validpref "$raw/wiki.valid.tokens" --testpref "$raw/wiki.test.tokens" \
    --destdir "$out/bin.part"
mv "$out/bin.part" "$out/bin"
echo "binarized data in $out/bin ($(wc -l < "$out/bin/dict.txt") words in dict.txt)"
