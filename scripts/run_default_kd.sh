#!/usr/bin/env bash
# The distilled default model (issue 4): a teacher (a model or an averaging ensemble `a+b+c`, averaged over 10 TTA
# views) writes its outputs on the Training faces once; a student learns from them with EmoXNetLite's loss (paper
# 003: cross-entropy on the teacher's label-smoothed probabilities), mixed half and half with the hard labels.
# Selection on PublicTest only: a student replaces the default (`python -m lab ship --run OUT --name NAME`,
# config.DEFAULT_MODEL) only where its PublicTest accuracy, fp32 and int8, beats the default's card; its PrivateTest figure is
# measured once for reports/beyond.md. Resumable: rerun after a kill.
# Usage: [TEACHER_MODEL=a+b] [STUDENT=model] [NAME=run name] [TRAIN_ARGS="--train-precision bf16-mixed ..."] \
#        [TEACH_PRECISION=fp32|int8] \
#        scripts/run_default_kd.sh [FER2013 path]   (ferkit with the train extra on PATH)
# The defaults are the third run: ferkit_cnn_m2 (stride-2 stem) taught by the best PublicTest ensemble
# ferkit_cnn_m + ferkit_cnn_m_kd + ferkit_cnn_s2 over 10 views, 70 epochs in bf16 mixed precision
# (reports/ferkit_cnn_m2_kd_*). The second run (reports/ferkit_cnn_m_kd_*): TEACHER_MODEL=ferkit_cnn_m+ferkit_cnn_s
# STUDENT=ferkit_cnn_m NAME=ferkit_cnn_m_kd TRAIN_ARGS="--train-precision bf16-mixed --epochs 60". The first run, ferkit_cnn_s
# taught by its own 10-view outputs (reports/ferkit_cnn_s_kd_*): TEACHER_MODEL=ferkit_cnn_s STUDENT=ferkit_cnn_s
# NAME=ferkit_cnn_s_kd TRAIN_ARGS=. The fourth (reports/ferkit_cnn_m2_kd4_*; not shipped: its int8 copy lost on
# PublicTest): TEACHER_MODEL=ferkit_cnn_m+ferkit_cnn_m_kd+ferkit_cnn_s2+ferkit_cnn_m2_kd NAME=ferkit_cnn_m2_kd4
# TEACH_PRECISION=int8. The sixth (reports/ferkit_cnn_m2_kd6_*): the GPU-trained vgg16_ferkit's stored 10-view outputs
# averaged with ferkit_cnn_m's, from the default's weights:
#   ferkit teach --model ferkit_cnn_m --tta 10 --data DATA --split training --out runs/teacher_ferkit_cnn_m_tta10.npz
#   ferkit teach --average ../shared/gpu_teachers/teachers/vgg16_ferkit_tta10.npz runs/teacher_ferkit_cnn_m_tta10.npz \
#     --out runs/teacher_vgg16_ferkit_ferkit_cnn_m_tta10.npz
#   TEACHER=runs/teacher_vgg16_ferkit_ferkit_cnn_m_tta10.npz NAME=ferkit_cnn_m2_kd6 \
#     TRAIN_ARGS="--init ferkit_cnn_m2_kd --epochs 30 --lr 0.01" scripts/run_default_kd.sh
# (scripts/run_kd6.sh runs these three steps.)
set -euo pipefail
DATA=${1:-../shared/data/fer2013_images.zip}
TEACHER_MODEL=${TEACHER_MODEL:-ferkit_cnn_m+ferkit_cnn_m_kd+ferkit_cnn_s2}
STUDENT=${STUDENT:-ferkit_cnn_m2}
NAME=${NAME:-ferkit_cnn_m2_kd}
TRAIN_ARGS=${TRAIN_ARGS-"--train-precision bf16-mixed --epochs 70"}
TEACH_PRECISION=${TEACH_PRECISION:-fp32}  # int8: the members' shipped int8 copies (3.4x fp32's faces/s in reports/speed.md)
TAG=$([ "$TEACHER_MODEL" = ferkit_cnn_s ] && echo default || echo "${TEACHER_MODEL//+/_}")$([ "$TEACH_PRECISION" = int8 ] && echo _int8 || true)
TAG=${TAG//\//_}  # a teacher given as a checkpoint path names its file without the slashes
TEACHER=${TEACHER:-runs/teacher_${TAG}_tta10.npz}  # a stored teacher file (e.g. averaged with `ferkit teach --average`)
out=runs/$NAME
mkdir -p reports/logs
[ -e "$TEACHER" ] || ferkit teach --model "$TEACHER_MODEL" --tta 10 --data "$DATA" --split training --precision "$TEACH_PRECISION" \
  --out "$TEACHER" 2>&1 | tee "reports/logs/teach_${TAG}_tta10.log"
ferkit train --model "$STUDENT" --dataset fer2013 --data "$DATA" --recipe ferkit --out "$out" --threads 2 \
  --teacher "$TEACHER" --kd-loss soft_labels --kd-alpha 0.5 $TRAIN_ARGS \
  $([ -e "$out/checkpoints/last.ckpt" ] && echo --resume) >> "reports/logs/${NAME}_train.log" 2>&1
cp "$out/epochs.jsonl" "reports/logs/${NAME}_train_epochs.jsonl"  # its PublicTest figure per epoch (selection)
for split in publictest privatetest; do  # the selection figure, then the test figure (`python -m lab ship` remeasures both)
  ferkit evaluate --model "$out/checkpoints/best.ckpt" --data "$DATA" --split $split \
    --json "reports/${NAME}_$split.json" 2>&1 | grep -v Warn | tee "reports/logs/${NAME}_$split.log"
done
# The int8 copy `analyze` would run, and its PublicTest figure: the second selection figure (reports/beyond.md
# compares it with the default card's int8 figure); shipped only if both beat the default's.
ferkit export --checkpoint "$out/checkpoints/best.ckpt" --int8 --calib-data "$DATA" --out "runs/int8/${NAME}_int8.onnx" \
  2>&1 | grep -v Warn | tee "reports/logs/export_int8_${NAME}.log"
ferkit evaluate --model "runs/int8/${NAME}_int8.onnx" --dataset fer2013 --data "$DATA" --split publictest \
  --json "reports/${NAME}_int8_publictest.json" 2>&1 | grep -v Warn | tee "reports/logs/${NAME}_int8_publictest.log"
