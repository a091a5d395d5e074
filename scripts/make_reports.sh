#!/usr/bin/env bash
# Regenerate reports/ for the shipped default model, each figure by a command, each log kept in reports/logs/.
# The training run it ships is recreated by the train command in its model card:
#   ferkit train --model ferkit_cnn_s --dataset fer2013 --data DATA --recipe ferkit --out runs/ferkit_cnn_s --threads 2
# Usage: scripts/make_reports.sh [FER2013 path]   (ferkit on PATH, train extra installed)
set -euo pipefail
DATA=${1:-../shared/data/fer2013_images.zip}
mkdir -p reports/logs
python scripts/measure_framing.py --data "$DATA" 2>&1 | tee reports/logs/face_framing.log
python scripts/measure_framing.py --data "$DATA" --detector haar --out reports/face_framing_haar.json 2>&1 | tee reports/logs/face_framing_haar.log
ferkit ship --run runs/ferkit_cnn_s --name ferkit_cnn_s --data "$DATA" 2>&1 | grep -v Warning | tee reports/logs/ship_ferkit_cnn_s.log
ferkit evaluate --dataset fer2013 --data "$DATA" --split privatetest --json reports/default_privatetest.json 2>&1 | tee reports/logs/default_privatetest.log
ferkit bench --json reports/bench.json 2>&1 | tee reports/logs/bench.log
