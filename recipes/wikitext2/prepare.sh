#!/usr/bin/env bash
# Wikitext-2 (Merity et al. 2016, the tokenized v1 release with <unk>): download, unpack and
# binarize with preprocess.sh. Needs curl and the Python environment of this repository.
# usage: recipes/wikitext2/prepare.sh [OUT]   (default data/wikitext2)
#   environment: WIKITEXT2_URL to download from another mirror; a zip already at
#   OUT/orig/wikitext-2-v1.zip is used as it is (for machines without internet access).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../toolkit_path.sh"
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-data/wikitext2}
orig=$out/orig
mkdir -p "$orig"
zip=$orig/wikitext-2-v1.zip
# The original S3 bucket of the dataset's authors, and the mirror its author keeps today.
urls=(${WIKITEXT2_URL:-https://s3.amazonaws.com/research.metamind.io/wikitext/wikitext-2-v1.zip
      https://wikitext.smerity.com/wikitext-2-v1.zip})
if [ ! -f "$zip" ]; then
    for url in "${urls[@]}"; do
        echo "downloading $url"
        if curl -fL --retry 3 -o "$zip.part" "$url"; then
            mv "$zip.part" "$zip"
            break
        fi
    done
fi
if [ ! -f "$zip" ]; then
    echo "could not download Wikitext-2 from: ${urls[*]}; put the zip at $zip or set WIKITEXT2_URL" >&2
    exit 1
fi
python -m zipfile -e "$zip" "$orig"
raw=$orig/wikitext-2
# Wikitext-2 v1 has 36,718 / 3,760 / 4,358 lines (2,088,628 / 217,646 / 245,569 tokens).
for entry in train:36718 valid:3760 test:4358; do
    split=${entry%%:*} lines=$(wc -l < "$raw/wiki.${entry%%:*}.tokens")
    if [ "$lines" -ne "${entry##*:}" ]; then
        echo "warning: $raw/wiki.$split.tokens has $lines lines, Wikitext-2 v1 has ${entry##*:}" >&2
    fi
done
"$here/preprocess.sh" "$raw" "$out"
