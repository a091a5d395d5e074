"""Project-wide constants and defaults, in one place."""
from __future__ import annotations

from pathlib import Path

#: The 7 FER2013 classes, in FER2013's label order (0..6).
EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

#: Folder names and synonyms mapped to the canonical class names above.
EMOTION_SYNONYMS: dict[str, str] = {
    "angry": "angry", "anger": "angry", "an": "angry",
    "disgust": "disgust", "disgusted": "disgust", "di": "disgust",
    "fear": "fear", "fearful": "fear", "afraid": "fear", "scared": "fear", "fe": "fear",
    "happy": "happy", "happiness": "happy", "joy": "happy", "ha": "happy",
    "sad": "sad", "sadness": "sad", "sa": "sad",
    "surprise": "surprise", "surprised": "surprise", "su": "surprise",
    "neutral": "neutral", "neutrality": "neutral", "ne": "neutral",
}

#: Official FER2013 split names (Usage column / file-name prefixes).
FER2013_SPLITS: tuple[str, ...] = ("Training", "PublicTest", "PrivateTest")

#: Side of the square grey face crop that expression models take.
FACE_SIZE = 48
#: Side of the face crop relative to the detector's square box, per detector, so that crops match
#: FER2013's framing: 1 / median(box side / FER2013 side) on PublicTest faces, measured by
#: scripts/measure_framing.py (reports/face_framing.md, reports/face_framing_haar.md, reports/face_framing_yunet.md).
#: YuNet's ONNX copy measures 0.961 (the library, which truncates boxes to whole pixels, measured 0.962); 0.962 is
#: kept for both: the shipped mask detector's threshold was chosen on crops framed with it (reports/masked.md).
#: yunet_masks (fine-tuned on the face-mask photos, whose boxes run from the brows to the chin) measures 1.169.
#: yunet_masks_ms (the same net at two sides, boxes fused) takes yunet_masks' framing (not measured on its own).
CROP_SCALE = {"mtcnn": 0.962, "haar": 1.038, "yunet": 0.962, "yunet_lib": 0.962, "yunet_masks": 1.169,
              "yunet_masks_ms": 1.169}
#: Where the crop's centre sits relative to the box centre, in crop sides along the face's upright axis (negative:
#: above), so that crops match FER2013's framing: 0.5 - the median box centre height in FER2013's frame
#: (scripts/measure_framing.py). yunet_masks' boxes sit low (-0.120 on every third PublicTest face); the other
#: detectors measure within 0.02 of the middle and are not shifted. On every third PublicTest face, the default model
#: loses 3.2 points on yunet_masks' crops against FER2013's own crops of the same faces, 2.9 on YuNet's
#: (reports/face_framing_yunet_masks.md, reports/face_framing_yunet.md).
CROP_SHIFT = {"yunet_masks": -0.12, "yunet_masks_ms": -0.12}
#: FER2013's median positions (in its 48 px frame) of YuNet's 5 landmarks (eyes, image-left first, nose tip, mouth
#: corners), measured by scripts/measure_framing.py on every third PublicTest face
#: (reports/face_framing_yunet_masks.md).
#: ``analyze`` maps a face with these landmarks onto them (``Framing.template``): a detector's box frames a face with
#: its forehead and chin (a photo) differently from a face cut to FER2013's crop, its landmarks do not.
FACE_TEMPLATE = ((15.49, 18.24), (31.96, 17.93), (23.93, 27.55), (16.99, 35.10), (30.94, 34.80))
#: The template's zoom about the crop centre (>1: tighter), chosen among TEMPLATE_ZOOMS on muxspace_dev (validation
#: photos; reports/real_photos.md) and checked on FER2013 PublicTest crops.
TEMPLATE_ZOOM = 1.1
TEMPLATE_ZOOMS = (1.0, 1.05, 1.1, 1.15, 1.2)
#: Faces whose box's longer side is under this many pixels keep the box framing: from this box size up (faces of
#: 32 px), the template scores above the box framing on FER2013 PublicTest faces shown at each of
#: TEMPLATE_FACE_SIZES px; below it (24 px faces) it scores under it (reports/calibration.md).
TEMPLATE_MIN_FACE = 29
TEMPLATE_FACE_SIZES = (24, 32, 40, 48, 64, 96)

PACKAGE_DIR = Path(__file__).resolve().parent
ASSETS_DIR = PACKAGE_DIR / "assets"
MODELS_DIR = ASSETS_DIR / "models"
DETECTORS_DIR = ASSETS_DIR / "detectors"

#: MTCNN score cut-offs of the P-, R- and O-Net stages. The last is stricter than the paper's 0.7: on the demo
#: photos every real face scores >= 0.965, while the O-Net boxes scoring 0.70-0.92 on the shared video and on
#: model_face.jpg were all false (hands, machinery, collars; checked by eye).
MTCNN_THRESHOLDS = (0.6, 0.7, 0.95)

#: The default expression model: ferkit_cnn_m2 (stride-2 stem) distilled from the ensemble ferkit_cnn_m +
#: ferkit_cnn_m_kd + ferkit_cnn_s2 over 10 views (scripts/run_default_kd.sh). Against ferkit_cnn_m_kd, the default
#: before it: FER2013 PublicTest int8 68.29% vs 68.26% (a tie), the pipeline's crops of every third PublicTest face
#: (yunet_masks framing, the 14-epoch detector of that time) 63.93% vs 64.80% (0.9 points lower: 10 of 1,159 faces;
#: with the 40-epoch detector since, 63.93% vs 66.29% on 1,145 faces, reports/face_framing_yunet_masks*.md); int8
#: classifier 3,771 faces/s in ferkit bench (git show 23241fa:reports/speed.md; 2,674 for ferkit_cnn_m_kd in the
#: bench before, git show b7d0bc6:reports/speed.md):
#: the one that meets issue 7's 3,200 faces/s. ferkit_cnn_m_kd stays shipped for the last point of accuracy.
DEFAULT_MODEL = "ferkit_cnn_m2_kd"
#: The expression model for masked faces (``analyze --masked on|auto``): paper 000's student, distilled from the
#: default model on synthesized masked FER2013 (reports/masked.md).
MASKED_MODEL = "ferkit_cnn_s_masked"
#: The mask / no-mask classifiers (``analyze --masked auto``): on colour images, mask_net trained on the colour
#: crops of real face-mask photos (``--dataset mask_photos``; threshold chosen on their validation photos); on grey
#: images, the one trained on synthesized grey faces only (paper 000's way; threshold chosen on the design photos).
#: MASK_THRESHOLD applies when a card states none.
MASK_PHOTO_DETECTOR_DIR = ASSETS_DIR / "mask_detector_photos"
MASK_DETECTOR_DIR = ASSETS_DIR / "mask_detector"
MASK_THRESHOLD = 0.5
#: The first this many photos of the face-mask set (archive order) are the design part: the mask detector's
#: training data (fabric synthesis, schedule) and threshold were chosen on them; reports/masked.md gives the other
#: photos apart. Thresholds tried, and which to keep on a tie (the highest).
MASK_DEV_PHOTOS = 100
#: Crops of the face-mask photos' annotated boxes are framed as this detector frames its boxes: the framing the
#: shipped mask detector's threshold was chosen with.
MASK_PHOTO_FRAMING = "yunet"
MASK_THRESHOLD_GRID = tuple(round(0.05 * i, 2) for i in range(1, 19))  # 0.05 .. 0.9
#: Weights of the colour classifier in its mean with the grey one on colour images, tried on the validation photos.
MASK_COLOUR_WEIGHTS = (0.25, 0.5, 0.75, 1.0)
#: ``analyze --masked``: off (every face to the default model), on (every face to the masked model), auto.
MASKED_MODES = ("off", "on", "auto")
#: Shipped models run their int8 copy (model_int8.onnx) when there is one: same accuracy, ~3x the faces/s on a
#: CPU with VNNI (model card and reports/speed.md); "fp32" runs model.onnx.
DEFAULT_PRECISION = "int8"
#: The default detector: the best AP50 of the backends at an acceptable speed (reports/detection.md): YuNet
#: fine-tuned on the face-mask photos' boxes, 40 epochs (face-mask photos' held-out third 0.866 vs the pretrained
#: YuNet's 0.745 on the same images; dlib faces 1.000 for both; same network, ~6.5 ms per 640x480 frame in
#: reports/speed.md's bench).
DEFAULT_DETECTOR = "yunet_masks"
#: ``ferkit train-detector --model yunet``: fine-tuning YuNet on VOC face boxes (detection/yunet_train.py). Epochs
#: and rate were tried on the validation images only (every fifth non-test image); sides: the longer image side,
#: drawn per step; input_side: the longer side the fine-tuned detector runs at (its card records it; validation
#: scores each epoch at it); centre_radius: candidate points within this many strides of a box centre; ema: decay
#: of an exponential moving average of the weights (0: off; on, it is what is validated and shipped), reached
#: over ema_warmup steps; augment: probabilities and ranges of copy-paste of small faces, random crops and colour
#: jitter (detection/yunet_train.py ``_augment``). EMA 0.998, crops + jitter at 0.5 and copy-paste at 0.5 were each
#: tried on the validation images (mean AP50 over epochs 21-40 against the recipe's; scratch runs, their logs not
#: kept) and left off: none scored above the recipe.
YUNET_FINETUNE = {"epochs": 40, "lr": 1e-4, "weight_decay": 1e-4, "sides": (480, 560, 640, 720, 800),
                  "input_side": 640, "validation_every": 5, "centre_radius": 2.5, "box_weight": 5.0,
                  "landmark_weight": 0.1, "ema": 0.0, "ema_warmup": 500, "stride4": False,
                  "augment": {"paste": 0.0, "paste_count": 4, "paste_size": (8, 40), "crop": 0.0,
                              "crop_scale": (0.5, 1.0), "jitter": 0.0, "jitter_amount": 0.3}}
#: Views of the fine-tuned YuNet that scripts/select_yunet_views.py scores on its validation photos
#: (reports/yunet_views.md): sides of the resized image, mirror image too, fusion of the views' boxes.
YUNET_VIEW_CANDIDATES = tuple({"sides": sides, "flip": flip, "fusion": fusion} for sides, flip, fusion in (
    ((640,), False, "nms"), ((800,), False, "nms"), ((960,), False, "nms"), ((640,), True, "wbf"),
    ((640, 800), False, "nms"), ((640, 896), False, "nms"), ((640, 928), False, "nms"), ((640, 960), False, "nms"),
    ((640, 800), False, "wbf"), ((640, 896), False, "wbf"), ((640, 928), False, "wbf"), ((640, 960), False, "wbf")))
#: The views of ``yunet_masks_ms``: the best validation AP50 within 15 ms per 640x480 frame among
#: YUNET_VIEW_CANDIDATES (reports/yunet_views.md: 0.896 vs 0.882 at 640 alone, 12.0 vs 4.0 ms). Not the default:
#: on video its cost would break the end-to-end frame-rate targets (reports/speed.md), which the single view meets.
YUNET_MASKS_MS_VIEWS = {"sides": (640, 896), "flip": False, "fusion": "wbf"}
#: YuNet's zoomed-out view (``_YuNetBase._context_view``): the image centred on a grey canvas ``pad`` times its
#: longer side, resized to ``side``; its boxes of at least ``min_face`` of the image's longer side join the others
#: before suppression. Without it a face filling the frame is missed (reports/real_photos.md).
YUNET_CONTEXT_VIEW = {"pad": 1.5, "side": 320, "min_face": 0.2}
#: The scale benchmark (``ferkit detect-eval --scales``, detection/scale_bench.py): each annotated face re-framed so
#: that its box spans each share of the (square) frame's side; frame sides tried, largest first, up to this
#: upsampling of the face's own pixels; faces smaller than SCALE_MIN_FACE px are left out.
SCALE_BANDS = (0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0)
SCALE_SIDES = (320, 640, 960, 1280)
SCALE_MAX_UPSAMPLE = 3.0
SCALE_MIN_FACE = 24
#: ``detect-eval`` ranks every detection a backend scores down to a floor on its score scale (``Detector.score_scale``)
#: for its AP and precision-recall curve, as VOC and COCO evaluations do (torchvision's detectors keep boxes down
#: to 0.05 for them); the backend's operating threshold (``min_score``, what ``analyze`` uses) is reported as one
#: point of that curve. Backends whose scale is not listed are ranked at their operating threshold.
DETECTION_RANKING_FLOOR = {"probability": 0.05, "svm_margin": -1.0}
#: Images with more pixels than this are refused before they are decoded (``--max-pixels``): a small file can claim a
#: huge size (a decompression bomb). 100 megapixels: a 12,000 x 8,000 scan still passes.
MAX_IMAGE_PIXELS = 100_000_000
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm")
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")

#: Identity: each face is embedded as the mean of its aligned chip's dlib embedding and its mirror image's, then
#: IDENTITY_TEXTURE: LBP histograms of the face box (grey, ``size`` px square, ``grid`` x ``grid`` cells, uniform
#: LBP(8,1); identity/texture.py), times ``weight``, appended; Euclidean distance weighs both (weight 0: dlib's
#: alone). A probe is a known person when closer than IDENTITY_THRESHOLD. On CK+ (reports/detection.md, one image
#: enrolled per subject): dlib mirror-averaged alone needs 0.56 to identify 95%, 95.9%, and then falsely accepts
#: 52.2% of unenrolled faces (the report before, git show b8212bb:reports/detection.md: 94.9% and 42.2% at 0.55);
#: with the texture at 0.80, 95.7% and 11.2%. The weight (of IDENTITY_TEXTURE_WEIGHTS; 0.25
#: falsely accepts fewest at 95% identification on all CK+ subjects and on the first half of them; the report
#: also checks it chosen on one half and scored on the other) and 0.80, the smallest threshold on a 0.01 grid
#: reaching 95% on either half of the subjects, were chosen on CK+: its probes come from the enrolled image's own
#: session, which favours texture; a gallery enrolled elsewhere may need another threshold (``enroll
#: --threshold``).
IDENTITY_MIRROR = True
IDENTITY_THRESHOLD = 0.80
IDENTITY_TEXTURE = {"weight": 0.25, "size": 48, "grid": 4}
#: Texture weights the report's held-out check chooses among.
IDENTITY_TEXTURE_WEIGHTS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.4)
#: Identification accuracy the held-out threshold check aims for, and the thresholds it tries.
IDENTITY_TARGET = 0.95
IDENTITY_THRESHOLD_GRID = tuple(round(0.40 + 0.01 * i, 2) for i in range(81))

#: Video frames decoded ahead in a background thread (0: decode inline). On the 2-core reference machine inline is
#: faster (clip, detector on every frame: 44 vs 36 frames/s; every 4th: 129 vs 111): the decoding thread preempts
#: the detector's OpenMP threads. Worth raising where there are cores to spare or decoding is costly (e.g. 4K).
FRAME_PREFETCH = 0
#: ``ferkit bench``: timing windows per classifier and detector rate, the fastest kept (ferkit's and fer's alike):
#: on a shared 2-core machine one window can catch other load, and a single window taken minutes apart from the
#: peer's made their ratio drift (3,771 / 1,969 in one run, vs 1,584 for fer in the issue's own measurement).
TIMING_ROUNDS = 3

#: Test-time augmentation: pixels by which the shifted views move the face (``--tta N``, expression/tta.py).
TTA_SHIFT = 2

#: Protocols on datasets without official splits (``ferkit crossval``): paper 004's hold-out test fraction,
#: the validation fraction held out of a training part, and the number of subject-independent folds.
CROSSVAL_TEST_FRACTION = 0.2
CROSSVAL_VAL_FRACTION = 0.1
CROSSVAL_FOLDS = 10
#: A training run whose machine's 1-minute load average went above this many times its cores shared the CPU with
#: other jobs: its recorded hardware says so (its training time is inflated).
SHARED_CPU_LOAD = 1.5

#: Default batch size for expression classification.
CLASSIFY_BATCH = 256
#: `train --init`: training faces on which the batch norms of an ONNX model's folded convolutions are re-measured
INIT_CALIBRATION_FACES = 1024

#: BGR colour per emotion for annotations and plots.
EMOTION_COLORS: dict[str, tuple[int, int, int]] = {
    "angry": (40, 40, 220), "disgust": (40, 140, 40), "fear": (160, 60, 160), "happy": (40, 200, 240),
    "sad": (200, 120, 40), "surprise": (30, 140, 255), "neutral": (170, 170, 170), "contempt": (90, 90, 140),
}
#: Faces at least this wide (px) get a probability bar chart beside their box in annotations.
BARS_MIN_FACE = 60
#: Images or video frames analysed together: their faces are classified in one batch.
FRAME_BATCH = 16
#: IoU above which a face in a new frame continues an existing track; frames a track survives unseen.
TRACK_IOU, TRACK_MAX_MISSES = 0.3, 12
#: A track seen in fewer analysed frames than this is transient (a passing false detection): it keeps its id in the
#: per-frame results but is left out of the per-person summary.
TRACK_MIN_FRAMES = 5
