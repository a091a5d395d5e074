#!/usr/bin/env bash
# Train and evaluate the reproduction-table rows that fit a 2-core CPU, one after another, logs in reports/logs/.
# Usage: [CKPLUS=CK+48 path] [FERPLUS=FER+ dir] scripts/run_reproduction.sh [FER2013 path] [run ...]
#        (ferkit with the train extra on PATH)
# A run is a model name (FER2013) or <model>_ckplus48_<protocol> (CK+48, `ferkit crossval`; protocol holdout or
# subject-kfold), e.g. thesis_cnn_ck_ckplus48_subject-kfold.
# Each row: `ferkit train ... --out runs/repro/<model>` then `ferkit evaluate` of its selected model on PrivateTest
# into runs/repro/<model>/privatetest.json; `python -m lab report reproduction` turns the runs into reports/reproduction.*.
set -uo pipefail
DATA=${1:-../shared/data/fer2013_images.zip}
CKPLUS=${CKPLUS:-../shared/data/ckplus48.tar}
FERPLUS=${FERPLUS:-../shared/data/ferplus}
SVM_GRID='{"kernel": ["linear", "poly", "rbf"], "C": [0.1, 1, 10]}'
# Short schedules of the heavy models on a CPU (their recipes otherwise unchanged; the table states the cut).
# Without a GPU their full recipes take days; SHORT=0 runs the full recipes (ferkit train picks a GPU where there is one).
SHORT=${SHORT:-1}
SHORT_RMN=(--epochs 1 --max-train 2000)        # rmn, resnet50_fc: about 4 GMACs per face
SHORT_PAPER003=(--epochs 2 --max-train 8000)   # paper 003's backbones: 0.02 to 0.7 GMACs per face
shift || true
MODELS=${*:-simple_cnn knn_pixels knn_hist}
mkdir -p reports/logs runs/repro
for m in $MODELS; do
  out=runs/repro/$m
  log=reports/logs/repro_$m.log
  case $m in
    *_ckplus48_holdout|*_ckplus48_subject-kfold)
      model=${m%_ckplus48_*}; protocol=${m##*_ckplus48_}
      case $model in svm_*) extra=(--grid "$SVM_GRID") ;; *) extra=(--recipe paper004 --threads 2) ;; esac
      [ "$protocol" = holdout ] && extra+=(--repeats 10)  # paper 004's ten attempts, each its own split and seed
      ferkit crossval --model "$model" --data "$CKPLUS" --protocol "$protocol" "${extra[@]}" --out "$out" >> "$log" 2>&1
      echo "$m done: $(grep -o '"accuracy_mean": [0-9.]*' "$out/crossval.json" | head -1)"
      continue ;;
    knn_pixels|knn_hist) ferkit train --model "$m" --data "$DATA" --out "$out" --grid '{"k": [3], "p": [1]}' > "$log" 2>&1
                         weights=$out/model.joblib ;;
    mlp_1024) ferkit train --model mlp_1024 --data "$DATA" --out "$out" --grid '{"activation": ["relu"]}' > "$log" 2>&1
              weights=$out/model.joblib ;;
    svm_hog|svm_pixels|svm_landmarks) ferkit train --model "$m" --data "$DATA" --out "$out" --max-train 10000 \
                          --grid '{"kernel": ["rbf"], "C": [1, 10]}' > "$log" 2>&1
                        weights=$out/model.joblib ;;
    simple_cnn|dcnn6|thesis_cnn|resnet18_fc)
      case $m in dcnn6) recipe=paper000 ;; thesis_cnn) recipe=paper004 ;; *) recipe=paper002 ;; esac
      ferkit train --model "$m" --recipe $recipe --data "$DATA" --out "$out" --threads 2 \
        ${MAX_TIME:+--max-time $MAX_TIME} $([ -e "$out/checkpoints/last.ckpt" ] && echo --resume) >> "$log" 2>&1
      weights=$out/checkpoints/best.ckpt ;;
    rmn|resnet50_fc)
      recipe=$([ $m = rmn ] && echo paper001 || echo paper002); short=(); [ "$SHORT" = 1 ] && short=("${SHORT_RMN[@]}")
      ferkit train --model "$m" --recipe $recipe --data "$DATA" --out "$out" --threads 2 "${short[@]}" \
        ${MAX_TIME:+--max-time $MAX_TIME} $([ -e "$out/checkpoints/last.ckpt" ] && echo --resume) >> "$log" 2>&1
      weights=$out/checkpoints/best.ckpt ;;
    vgg16|densenet121|efficientnet_b0|resnet34|seresnet34|resnext50_32x4d|seresnext50_32x4d)
      short=(); [ "$SHORT" = 1 ] && short=("${SHORT_PAPER003[@]}")
      fp=(--dataset ferplus --data "$FERPLUS/fer2013new.csv" --images "$FERPLUS/ferplus_images.zip")
      ferkit train --model "$m" --recipe paper003 "${fp[@]}" --out "$out" --threads 2 "${short[@]}" \
        ${MAX_TIME:+--max-time $MAX_TIME} $([ -e "$out/checkpoints/last.ckpt" ] && echo --resume) >> "$log" 2>&1
      ferkit evaluate --model "$out/checkpoints/best.ckpt" "${fp[@]}" --split privatetest --json "$out/privatetest.json" >> "$log" 2>&1
      echo "$m done: $(grep -o '"accuracy": [0-9.]*' "$out/privatetest.json" | head -1)"
      continue ;;
    *) echo "no reproduction command for $m" >&2; continue ;;
  esac
  ferkit evaluate --model "$weights" --data "$DATA" --split privatetest --json "$out/privatetest.json" >> "$log" 2>&1
  echo "$m done: $(grep -o '"accuracy": [0-9.]*' "$out/privatetest.json" | head -1)"
done
