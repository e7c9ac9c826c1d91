#!/usr/bin/env bash
# Figure 2: Transformer Base on WMT'14 En-De (Ott et al. 2018 settings, 50k updates), both scopes.
# usage: recipes/wmt14_en_de/lottery_base.sh   (after prepare.sh; see lottery_common.sh for the environment)
NAME=base
TRAIN_ARGS=(--arch transformer_wmt_en_de --share-all-embeddings --dropout 0.1 --lr 0.0007)
source "$(dirname "$0")/lottery_common.sh"
