#!/usr/bin/env bash
# Train and evaluate the reproduction-table rows that fit a 2-core CPU, one after another, logs in reports/logs/.
# Usage: scripts/run_reproduction.sh [FER2013 path] [model ...]   (ferkit with the train extra on PATH)
# Each row: `ferkit train ... --out runs/repro/<model>` then `ferkit evaluate` of its selected model on PrivateTest
# into runs/repro/<model>/privatetest.json; `ferkit report reproduction` turns the runs into reports/reproduction.*.
set -uo pipefail
DATA=${1:-../shared/data/fer2013_images.zip}
shift || true
MODELS=${*:-simple_cnn knn_pixels knn_hist}
mkdir -p reports/logs runs/repro
for m in $MODELS; do
  out=runs/repro/$m
  log=reports/logs/repro_$m.log
  case $m in
    knn_pixels|knn_hist) ferkit train --model "$m" --data "$DATA" --out "$out" --grid '{"k": [3], "p": [1]}' > "$log" 2>&1
                         weights=$out/model.joblib ;;
    mlp_1024) ferkit train --model mlp_1024 --data "$DATA" --out "$out" --grid '{"activation": ["relu"]}' > "$log" 2>&1
              weights=$out/model.joblib ;;
    svm_hog|svm_pixels) ferkit train --model "$m" --data "$DATA" --out "$out" --max-train 10000 \
                          --grid '{"kernel": ["rbf"], "C": [1, 10]}' > "$log" 2>&1
                        weights=$out/model.joblib ;;
    simple_cnn) ferkit train --model simple_cnn --recipe paper002 --data "$DATA" --out "$out" --threads 2 \
                  ${MAX_TIME:+--max-time $MAX_TIME} $([ -e "$out/checkpoints/last.ckpt" ] && echo --resume) > "$log" 2>&1
                weights=$out/checkpoints/best.ckpt ;;
    *) echo "no reproduction command for $m" >&2; continue ;;
  esac
  ferkit evaluate --model "$weights" --data "$DATA" --split privatetest --json "$out/privatetest.json" >> "$log" 2>&1
  echo "$m done: $(grep -o '"accuracy": [0-9.]*' "$out/privatetest.json" | head -1)"
done
