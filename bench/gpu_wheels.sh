#!/bin/bash
# Fills .whl/ (git-ignored) with the wheels, for Python 3.12 on x86-64 Linux, of what fastseq needs beyond a GPU
# image's usual packages (PyTorch, NumPy, pandas, matplotlib, scikit-learn, accelerate, sacrebleu, pytest are
# expected there), at the versions installed in .venv. Run here, where a package index is reachable; then carry
# .whl/ to the GPU machine and run bench/gpu_check.sh there.
set -euo pipefail
cd "$(dirname "$0")/.."
PKGS="fastai fastcore fastdownload fastprogress fasttransform plum-dispatch beartype spacy spacy-legacy spacy-loggers
      thinc blis catalogue confection cymem murmurhash preshed srsly wasabi weasel cloudpathlib smart-open pydantic
      pydantic-core annotated-types typing-inspection fasttext-wheel sacremoses"
mkdir -p .whl
for p in $PKGS; do
  v=$(.venv/bin/python -m pip show "$p" 2>/dev/null | sed -n 's/^Version: //p')
  [ -n "$v" ] || { echo "gpu_wheels: $p is not installed in .venv" >&2; exit 1; }
  .venv/bin/python -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d .whl "$p==$v"
done
du -sh .whl
