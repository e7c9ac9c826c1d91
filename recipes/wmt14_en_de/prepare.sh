#!/usr/bin/env bash
# WMT'14 English-German: download the training corpora (Europarl v7, Common Crawl, News Commentary
# v9), newstest2013 (validation) and newstest2014 (test), then tokenize, learn a joint BPE and
# binarize with preprocess.sh. Needs curl, tar, and the Python environment of this repository
# (sacremoses, subword-nmt, fairseq).
# usage: recipes/wmt14_en_de/prepare.sh [OUT]   (default data/wmt14_en_de; env BPE_MERGES=32000)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../toolkit_path.sh"
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-data/wmt14_en_de}
merges=${BPE_MERGES:-32000}
orig=$out/orig raw=$out/raw
mkdir -p "$orig" "$raw"

urls=(
    http://statmt.org/wmt13/training-parallel-europarl-v7.tgz
    http://statmt.org/wmt13/training-parallel-commoncrawl.tgz
    http://statmt.org/wmt14/training-parallel-nc-v9.tgz
    http://statmt.org/wmt14/dev.tgz
    http://statmt.org/wmt14/test-full.tgz
)
for url in "${urls[@]}"; do
    file=$orig/$(basename "$url")
    if [ ! -f "$file" ]; then
        echo "downloading $url"
        curl -fL --retry 3 -o "$file.part" "$url"
        mv "$file.part" "$file"
    fi
    tar -xzf "$file" -C "$orig"
done

corpora=("$orig/training/europarl-v7.de-en" "$orig/commoncrawl.de-en" "$orig/training/news-commentary-v9.de-en")
for l in en de; do
    cat "${corpora[@]/%/.$l}" > "$raw/train.$l"
    cp "$orig/dev/newstest2013.$l" "$raw/valid.$l"
done
sgm_text() { grep '<seg id' "$1" | sed -e 's/<seg id="[0-9]*">\s*//g' -e 's/\s*<\/seg>\s*//g' -e "s/\’/\'/g"; }
sgm_text "$orig/test-full/newstest2014-deen-src.en.sgm" > "$raw/test.en"
sgm_text "$orig/test-full/newstest2014-deen-ref.de.sgm" > "$raw/test.de"
wc -l "$raw"/*.en

"$here/preprocess.sh" "$raw" "$out" "$merges"
