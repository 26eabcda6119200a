#!/usr/bin/env bash
# Regenerate the figures in docs/figures/ that the README shows:
#   voltage_traces.png  from tutorial 01 (a few seconds)
#   training.png        from tutorial 02, the full 500-epoch run (a few minutes on a CPU)
#   dendrites_*.png     from tutorial 07 (about a minute)
# Usage, from the repository root: bash tutorials/make_figures.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export MPLBACKEND=Agg
python tutorials/01_build_a_circuit.py --figures docs/figures
python tutorials/02_fit_conductances.py --figures docs/figures
python tutorials/07_dendrites.py --figures docs/figures
