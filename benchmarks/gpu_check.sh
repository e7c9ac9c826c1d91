#!/usr/bin/env bash
# The GPU checks of benchmarks/gpu_check.py in one call, on a GPU machine without a package registry.
# Here, after `make install`:   ../shared/tools/gpu_bundle.sh      (fills the ignored .gpu/)
# There, from the project root: benchmarks/gpu_check.sh [OUT.json] [gpu_check.py options]
# with .gpu/ carried along. The figures go to OUT.json (default: $OUT/gpu_check.json, else ./gpu_check.json),
# one verdict line per check to the terminal.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f .gpu/setup.sh ] && ! python3 -c "import fairseq, envpool" 2>/dev/null; then
  source .gpu/setup.sh  # puts the checkout and .gpu/site on PYTHONPATH; builds fairseq once (about 3 minutes)
fi
out=${1:-${OUT:-.}/gpu_check.json}
[ $# -gt 0 ] && shift
exec python3 benchmarks/gpu_check.py --out "$out" "$@"
