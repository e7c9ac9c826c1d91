# Sourced by every recipe: puts the toolkit's commands (rl-lth, fairseq-lth-imp, lth-report,
# fairseq-preprocess, sacremoses, subword-nmt and their python) first on PATH, whatever PATH was, so a
# recipe runs from a fresh clone after `make install`. Where they are: $VENV if set, else the
# repository's .venv; without either, the commands already on PATH (an environment you activated).
toolkit_venv=${VENV:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.venv}
if [ -x "$toolkit_venv/bin/fairseq-lth-imp" ]; then
    export PATH="$toolkit_venv/bin:$PATH"
elif ! command -v fairseq-lth-imp > /dev/null; then
    echo "$(basename "$0"): no toolkit install in $toolkit_venv and none on PATH: run \`make install\` in" \
        "the repository (or set VENV to the virtual environment that has it)" >&2
    exit 2
fi
# Progress bars only on a terminal: the tokenizers' and fairseq's tqdm bars would fill a redirected log
# with carriage-return frames (the toolkit's own commands decide for themselves).
[ -t 2 ] || export TQDM_DISABLE=1
