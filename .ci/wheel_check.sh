#!/usr/bin/env bash
# Build the sdist and the wheel, install the wheel into a fresh venv that already holds torch and torchvision (as
# pytorch.org's `pip install torch torchvision` leaves it; fastai needs torchvision, and a torchvision pip picks on its
# own may want another torch), check that torch was left as it was, and run `fastseq` from outside the checkout,
# with no FutureWarning on stderr. Twice: with the Makefile's torch (constraints.txt) and with the newest pip offers.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf dist build
.venv/bin/python -m build --no-isolation --outdir dist . > /dev/null
ls dist/fastseq-*.tar.gz dist/fastseq-*.whl
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check_with_torch() {  # $1: a folder name; the rest: pip's arguments for torch and torchvision
  local venv="$tmp/$1"; shift
  python3 -m venv "$venv"
  local pip="$venv/bin/python -m pip install --quiet --disable-pip-version-check"
  $pip "$@"
  local before after
  before=$(torch_version "$venv")
  "$venv/bin/python" -m pip install --dry-run --quiet --report - dist/fastseq-*.whl 2>/dev/null \
    | python3 -c 'import json, sys; print("would install:", sorted(i["metadata"]["name"] for i in json.load(sys.stdin)["install"] if i["metadata"]["name"].startswith("torch")) or "no torch package")'
  $pip dist/fastseq-*.whl
  after=$(torch_version "$venv")
  echo "torch before the wheel: $before, after: $after"
  [ "$before" = "$after" ]
  (cd "$tmp"
   "$venv/bin/fastseq" --help > /dev/null 2> "$venv.err"
   "$venv/bin/fastseq" train --data phrasebook --n-pairs 2000 --epochs 1 --emb-sz-src 64 --emb-sz-tgt 64 \
     --n-hid-enc 64 --out "$venv.pkl" 2>> "$venv.err" | tail -2
   echo "translation: $("$venv/bin/fastseq" translate "$venv.pkl" "Le chat noir est sous la table." 2>> "$venv.err")")
  if grep -n FutureWarning "$venv.err"; then echo "a command printed a FutureWarning with $after"; return 1; fi
  echo "FutureWarnings that importing fastai itself prints with $after (fastseq's commands silence this one):" \
    "$("$venv/bin/python" -c 'import fastai.layers' 2>&1 | grep -c FutureWarning || true)"
}

torch_version() {  # installed versions, read from the metadata (fastseq never imports torchvision)
  "$1/bin/python" -c 'from importlib.metadata import version as v; print("torch", v("torch"), "torchvision", v("torchvision"))'
}

check_with_torch pinned -c constraints.txt torch torchvision
check_with_torch newest torch torchvision      # the newest pip offers here (it may be a CUDA build: several GB)
echo "wheel check: passed"
