#!/usr/bin/env bash
# Figure 3: Transformer Big on WMT'14 En-De (Ott et al. 2018 settings, 50k updates), both scopes.
# usage: recipes/wmt14_en_de/lottery_big.sh   (after prepare.sh; see lottery_common.sh for the environment)
NAME=big
TRAIN_ARGS=(--arch transformer_vaswani_wmt_en_de_big --share-all-embeddings --dropout 0.3 --lr 0.001)
source "$(dirname "$0")/lottery_common.sh"
