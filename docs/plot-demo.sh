#!/usr/bin/env bash
# Draws docs/rsspp-sim.png: 20 simulated seconds of conf/rsspp-sim.click,
# recorded with RECORD and drawn with pyclick-plot.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed -e "s|AUTOSCALE false)|AUTOSCALE false, RECORD $work/run.jsonl)|" \
    -e "s|DURATION 60|DURATION 20|" conf/rsspp-sim.click > "$work/run.click"
grep -q "RECORD" "$work/run.click"
"$python" -m pyclick "$work/run.click" > /dev/null
"$python" -m pyclick.plot "$work/run.jsonl" -o docs/rsspp-sim.png --size 1200x800
