#!/usr/bin/env bash
# Paper 000's masked-face experiment on a 2-core CPU, step by step, each step resumable (rerun the script after a
# kill): masked FER2013 -> stored teacher outputs -> mask detector -> student without / with distillation, from
# random weights (paper 000) and from the teacher's.
# Usage: scripts/run_masked.sh [FER2013 path] [epochs of each student]   (ferkit with the train + dlib extras on PATH)
# Then: `python -m lab ship` of the distilled student and mask detector, `python -m lab report masked` (scripts/make_reports.sh).
set -euo pipefail
DATA=${1:-../shared/data/fer2013_images.zip}
EPOCHS=${2:-15}
MASKED=runs/masked_fer2013
FABRICS=runs/masked_fer2013_fabrics  # the mask detector's training data: half the masks get a random fabric
mkdir -p reports/logs runs
resume() { [ -e "$1/checkpoints/last.ckpt" ] && echo --resume || true; }
# a run is done when it stopped on its own (epochs or early stopping), not by a time limit or a kill; each runs
# EPOCHS of its recipe (a short schedule where that is fewer than the recipe's)
done_run() { [ -e "$1/summary.json" ] && ! grep -q '"stopped_by": "time limit or interruption"' "$1/summary.json"; }

[ -e $MASKED/masking_report.json ] || ferkit mask --dataset fer2013 --data "$DATA" --out $MASKED --seed 0 --workers 2 \
  > reports/logs/masked_synthesis.log 2>&1
[ -e runs/teacher_full_face.npz ] || ferkit teach --model ferkit_cnn_s --data "$DATA" --split Training \
  --out runs/teacher_full_face.npz > reports/logs/masked_teach.log 2>&1
[ -e $FABRICS/masking_report.json ] || ferkit mask --dataset fer2013 --data "$DATA" --out $FABRICS --seed 0 --patterns 0.5 \
  --workers 2 > reports/logs/masked_synthesis_fabrics.log 2>&1
done_run runs/mask_det_fabrics || ferkit train --model mask_net --dataset mask --data $FABRICS --images "$DATA" --recipe maskdet \
  --out runs/mask_det_fabrics --threads 2 $(resume runs/mask_det_fabrics) > reports/logs/mask_det_train.log 2>&1
done_run runs/masked_student || ferkit train --model ferkit_cnn_s --data $MASKED --recipe ferkit --epochs "$EPOCHS" \
  --out runs/masked_student --threads 2 $(resume runs/masked_student) > reports/logs/masked_student_train.log 2>&1
done_run runs/masked_kd || ferkit train --model ferkit_cnn_s --data $MASKED --recipe ferkit --epochs "$EPOCHS" \
  --teacher runs/teacher_full_face.npz --out runs/masked_kd --threads 2 $(resume runs/masked_kd) \
  > reports/logs/masked_kd_train.log 2>&1
# Beyond paper 000 (which starts its students from random weights): the same two students starting from the
# teacher's weights (`--init`, its batch norms re-measured on masked training faces).
done_run runs/masked_student_init || ferkit train --model ferkit_cnn_s --data $MASKED --recipe ferkit --epochs "$EPOCHS" \
  --init ferkit_cnn_s --out runs/masked_student_init --threads 2 $(resume runs/masked_student_init) \
  > reports/logs/masked_student_init_train.log 2>&1
done_run runs/masked_kd_init || ferkit train --model ferkit_cnn_s --data $MASKED --recipe ferkit --epochs "$EPOCHS" \
  --init ferkit_cnn_s --teacher runs/teacher_full_face.npz --out runs/masked_kd_init --threads 2 \
  $(resume runs/masked_kd_init) > reports/logs/masked_kd_init_train.log 2>&1
# ... and distilled from an averaging ensemble of four shipped models (full faces) instead of the single teacher
[ -e runs/teacher_ensemble_full_face.npz ] || ferkit teach --model ferkit_cnn_m+ferkit_cnn_m_kd+ferkit_cnn_s2+default \
  --data "$DATA" --split Training --out runs/teacher_ensemble_full_face.npz > reports/logs/masked_teach_ensemble.log 2>&1
done_run runs/masked_kd_ensemble_init || ferkit train --model ferkit_cnn_s --data $MASKED --recipe ferkit \
  --epochs "$EPOCHS" --init ferkit_cnn_s --teacher runs/teacher_ensemble_full_face.npz --out runs/masked_kd_ensemble_init \
  --threads 2 $(resume runs/masked_kd_ensemble_init) > reports/logs/masked_kd_ensemble_init_train.log 2>&1
# ... and from the strongest PublicTest ensemble (GPU-trained vgg16_ferkit of ../shared/gpu_teachers + ferkit_cnn_m, 10
# views: reports/ensemble_all.json), the default candidate's teacher (scripts/run_kd6.sh writes its file)
GPU_TEACHER=runs/teacher_vgg16_ferkit_ferkit_cnn_m_tta10.npz
if [ -e $GPU_TEACHER ]; then
  done_run runs/masked_kd_gpu_ensemble_init || ferkit train --model ferkit_cnn_s --data $MASKED --recipe ferkit \
    --epochs "$EPOCHS" --init ferkit_cnn_s --teacher $GPU_TEACHER --out runs/masked_kd_gpu_ensemble_init --threads 2 \
    $(resume runs/masked_kd_gpu_ensemble_init) > reports/logs/masked_kd_gpu_ensemble_init_train.log 2>&1
fi
echo "masked runs done"
