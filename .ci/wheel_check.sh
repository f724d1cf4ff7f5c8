#!/usr/bin/env bash
# Build the sdist and the wheel, install the wheel into a fresh venv that already holds torch and torchvision (as
# pytorch.org's `pip install torch torchvision` leaves it; fastai needs torchvision, and a torchvision pip picks on its
# own may want another torch), check that torch was left as it was, and run `fastseq` from outside the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf dist build
.venv/bin/python -m build --no-isolation --outdir dist . > /dev/null
ls dist/fastseq-*.tar.gz dist/fastseq-*.whl
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m venv "$tmp/venv"
pip="$tmp/venv/bin/python -m pip install --quiet --disable-pip-version-check"
$pip -c constraints.txt torch torchvision
torch_version() {  # installed versions, read from the metadata (fastseq never imports torchvision)
  "$tmp/venv/bin/python" -c 'from importlib.metadata import version as v; print("torch", v("torch"), "torchvision", v("torchvision"))'
}
before=$(torch_version)
"$tmp/venv/bin/python" -m pip install --dry-run --quiet --report - dist/fastseq-*.whl 2>/dev/null \
  | python3 -c 'import json, sys; print("would install:", sorted(i["metadata"]["name"] for i in json.load(sys.stdin)["install"] if i["metadata"]["name"].startswith("torch")) or "no torch package")'
$pip dist/fastseq-*.whl
after=$(torch_version)
echo "torch before the wheel: $before, after: $after"
[ "$before" = "$after" ]
cd "$tmp"
venv/bin/fastseq --help > /dev/null
venv/bin/fastseq train --data phrasebook --n-pairs 2000 --epochs 1 --emb-sz-src 64 --emb-sz-tgt 64 --n-hid-enc 64 --out "$tmp/m.pkl" | tail -2
echo "translation: $(venv/bin/fastseq translate "$tmp/m.pkl" "Le chat noir est sous la table.")"
echo "wheel check: passed"
