#!/usr/bin/env bash
# FER+ (issue 4): ferkit_cnn_s trained on FER+ vote distributions (recipe ferplus), selected on FER+ PublicTest,
# evaluated once on FER+ PrivateTest (majority vote) and on FER2013 PrivateTest, reports in reports/. Resumable: rerun after a kill.
# Usage: [MAX_TIME=DD:HH:MM:SS] scripts/run_ferplus.sh [FER+ dir with fer2013new.csv and ferplus_images.zip] [FER2013 path]
set -euo pipefail
FERPLUS=${1:-../shared/data/ferplus}
FER=${2:-../shared/data/fer2013_images.zip}
out=runs/ferplus_cnn_s
log=reports/logs/ferplus_cnn_s.log
mkdir -p reports/logs
ferkit train --model ferkit_cnn_s --dataset ferplus --data "$FERPLUS/fer2013new.csv" --images "$FERPLUS/ferplus_images.zip" \
  --recipe ferplus --out $out --threads 2 ${MAX_TIME:+--max-time $MAX_TIME} $([ -e "$out/checkpoints/last.ckpt" ] && echo --resume) >> $log 2>&1
ferkit evaluate --model $out/checkpoints/best.ckpt --dataset ferplus --data "$FERPLUS/fer2013new.csv" \
  --images "$FERPLUS/ferplus_images.zip" --split privatetest --json reports/ferplus_cnn_s_ferplus_test.json 2>&1 | tee reports/logs/ferplus_cnn_s_ferplus_test.log
ferkit evaluate --model $out/checkpoints/best.ckpt --data "$FER" --split privatetest --json reports/ferplus_cnn_s_privatetest.json 2>&1 | tee reports/logs/ferplus_cnn_s_privatetest.log
