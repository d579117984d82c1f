#!/usr/bin/env bash
# Create benchmarks/.venv: celab (editable) plus the peer libraries the benchmarks time it
# against. The peers live only here, never among celab's dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=benchmarks/.venv
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
PIP="$VENV/bin/python -m pip --disable-pip-version-check -q"
$PIP install -e ".[gym]"
# SMPyBandits 0.9.7 pulls scikit-learn, matplotlib, seaborn, pandas.
$PIP install smpybandits==0.9.7
$PIP install pymdptoolbox quantecon
# rlberry's pins would downgrade gymnasium and pull Atari/pygame: install without deps.
$PIP install --no-deps rlberry==0.7.3 rlberry-scool==0.7.3
$PIP install dill docopt tqdm tabulate adastop imageio
echo "peers installed in $VENV"
