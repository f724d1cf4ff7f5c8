#!/bin/bash
# The prepared device check: on a machine with a CUDA GPU and PyTorch, run from the repository root,
#     bash bench/gpu_check.sh [--data DIR]       (DIR: Tatoeba's train.tsv and valid.tsv; default: the phrasebook)
# Packages that machine lacks (fastai, spaCy, fastText, ...) are installed from .whl/ when it is there:
# bench/gpu_wheels.sh fills it on a machine with a package index. Prints one JSON summary (docs/performance.md).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/fastseq-site .whl/*.whl
  export PYTHONPATH=/tmp/fastseq-site
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
exec python3 bench/gpu_check.py "$@"
