#!/usr/bin/env bash
# Regenerates the plots the README shows: runs the main job (which ends with its report), then
# copies a few of its plots into experiments/sweep-report/. Reruns skip finished trials, so this
# is quick after the main job has run once.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --release -- experiments/sweep.rhai >/dev/null
mkdir -p experiments/sweep-report
for plot in w2-vs-nfe-gmm1d w2-vs-nfe-moons solver-error-vs-nfe-moons loss-moons samples-moons-fm-rk4-4 flow-moons-fm-euler-2; do
    cp "runs/sweep/plots/$plot.png" experiments/sweep-report/
done
du -ch experiments/sweep-report/*.png | tail -1
