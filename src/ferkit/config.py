"""Project-wide constants and defaults, in one place: each with a one-line meaning; why each default is what it is,
with its measurements, is in docs/defaults.md."""

from __future__ import annotations

from pathlib import Path

#: The 7 FER2013 classes, in FER2013's label order (0..6).
EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

#: Folder names and synonyms mapped to the canonical class names above.
EMOTION_SYNONYMS: dict[str, str] = {
    "angry": "angry",
    "anger": "angry",
    "an": "angry",
    "disgust": "disgust",
    "disgusted": "disgust",
    "di": "disgust",
    "fear": "fear",
    "fearful": "fear",
    "afraid": "fear",
    "scared": "fear",
    "fe": "fear",
    "happy": "happy",
    "happiness": "happy",
    "joy": "happy",
    "ha": "happy",
    "sad": "sad",
    "sadness": "sad",
    "sa": "sad",
    "surprise": "surprise",
    "surprised": "surprise",
    "su": "surprise",
    "neutral": "neutral",
    "neutrality": "neutral",
    "ne": "neutral",
}

#: Official FER2013 split names (Usage column / file-name prefixes).
FER2013_SPLITS: tuple[str, ...] = ("Training", "PublicTest", "PrivateTest")

#: Side of the square grey face crop that expression models take.
FACE_SIZE = 48
#: Face-crop side relative to each detector's square box, matching FER2013's framing (docs/defaults.md).
CROP_SCALE = {
    "mtcnn": 0.962,
    "haar": 1.038,
    "yunet": 0.962,
    "yunet_lib": 0.962,
    "yunet_masks": 1.169,
    "yunet_masks_ms": 1.169,
}
#: Crop-centre shift along the face's upright axis, in crop sides (negative: up), per detector.
CROP_SHIFT = {"yunet_masks": -0.12, "yunet_masks_ms": -0.12}
#: FER2013's median positions (48 px frame) of the 5 landmarks: eyes (image-left first), nose, mouth corners.
FACE_TEMPLATE = ((15.49, 18.24), (31.96, 17.93), (23.93, 27.55), (16.99, 35.10), (30.94, 34.80))
#: Zoom of the landmark template about the crop centre (>1: tighter); TEMPLATE_ZOOMS: the candidates.
TEMPLATE_ZOOM = 1.1
TEMPLATE_ZOOMS = (1.0, 1.05, 1.1, 1.15, 1.2)
#: Boxes whose longer side is under this many px keep the box framing; TEMPLATE_FACE_SIZES: sizes checked.
TEMPLATE_MIN_FACE = 29
TEMPLATE_FACE_SIZES = (24, 32, 40, 48, 64, 96)

PACKAGE_DIR = Path(__file__).resolve().parent
ASSETS_DIR = PACKAGE_DIR / "assets"
MODELS_DIR = ASSETS_DIR / "models"
DETECTORS_DIR = ASSETS_DIR / "detectors"

#: MTCNN score cut-offs of its P-, R- and O-Net stages.
MTCNN_THRESHOLDS = (0.6, 0.7, 0.95)

#: The default expression model (docs/models.md).
DEFAULT_MODEL = "ferkit_cnn_m2_kd"
#: The expression model for masked faces (``analyze --masked on|auto``).
MASKED_MODEL = "ferkit_cnn_s_masked"
#: The mask / no-mask classifiers: on colour images (photos) and on grey ones; MASK_THRESHOLD: where a card states none.
MASK_PHOTO_DETECTOR_DIR = ASSETS_DIR / "mask_detector_photos"
MASK_DETECTOR_DIR = ASSETS_DIR / "mask_detector"
MASK_THRESHOLD = 0.5
#: The first this many face-mask photos (archive order) are the mask detector's design part.
MASK_DEV_PHOTOS = 100
#: The detector whose framing crops the face-mask photos' annotated boxes; MASK_THRESHOLD_GRID: thresholds tried.
MASK_PHOTO_FRAMING = "yunet"
MASK_THRESHOLD_GRID = tuple(round(0.05 * i, 2) for i in range(1, 19))  # 0.05 .. 0.9
#: Weights of the colour mask classifier in its mean with the grey one, tried on the validation photos.
MASK_COLOUR_WEIGHTS = (0.25, 0.5, 0.75, 1.0)
#: ``analyze --masked``: off (every face to the default model), on (every face to the masked model), auto.
MASKED_MODES = ("off", "on", "auto")
#: Shipped models run their int8 copy where there is one; ``fp32`` runs model.onnx.
DEFAULT_PRECISION = "int8"
#: The default face detector (docs/detectors.md).
DEFAULT_DETECTOR = "yunet_masks"
#: ``ferkit train-detector --model yunet``: the YuNet fine-tuning recipe (detection/yunet_train.py).
YUNET_FINETUNE = {
    "epochs": 40,
    "lr": 1e-4,
    "weight_decay": 1e-4,
    "sides": (480, 560, 640, 720, 800),
    "input_side": 640,
    "validation_every": 5,
    "centre_radius": 2.5,
    "box_weight": 5.0,
    "landmark_weight": 0.1,
    "ema": 0.0,
    "ema_warmup": 500,
    "stride4": False,
    "augment": {
        "paste": 0.0,
        "paste_count": 4,
        "paste_size": (8, 40),
        "crop": 0.0,
        "crop_scale": (0.5, 1.0),
        "jitter": 0.0,
        "jitter_amount": 0.3,
    },
}
#: Views of the fine-tuned YuNet scored by scripts/select_yunet_views.py: sides, mirror, box fusion.
YUNET_VIEW_CANDIDATES = tuple(
    {"sides": sides, "flip": flip, "fusion": fusion}
    for sides, flip, fusion in (
        ((640,), False, "nms"),
        ((800,), False, "nms"),
        ((960,), False, "nms"),
        ((640,), True, "wbf"),
        ((640, 800), False, "nms"),
        ((640, 896), False, "nms"),
        ((640, 928), False, "nms"),
        ((640, 960), False, "nms"),
        ((640, 800), False, "wbf"),
        ((640, 896), False, "wbf"),
        ((640, 928), False, "wbf"),
        ((640, 960), False, "wbf"),
    )
)
#: The views of the ``yunet_masks_ms`` detector.
YUNET_MASKS_MS_VIEWS = {"sides": (640, 896), "flip": False, "fusion": "wbf"}
#: YuNet's zoomed-out view: canvas ``pad`` x the image's longer side, resized to ``side``; boxes >= ``min_face``.
YUNET_CONTEXT_VIEW = {"pad": 1.5, "side": 320, "min_face": 0.2}
#: ``detect-eval --scales``: face-to-frame shares, frame sides, the most upsampling, the smallest face (px).
SCALE_BANDS = (0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0)
SCALE_SIDES = (320, 640, 960, 1280)
SCALE_MAX_UPSAMPLE = 3.0
SCALE_MIN_FACE = 24
#: ``detect-eval`` ranks detections down to this score, per score scale (``Detector.score_scale``).
DETECTION_RANKING_FLOOR = {"probability": 0.05, "svm_margin": -1.0}
#: Images with more pixels are refused before decoding (``--max-pixels``); then the file kinds read.
MAX_IMAGE_PIXELS = 100_000_000
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm")
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")

#: Identity: mirror-averaged dlib embeddings, the match distance, and the LBP texture appended (identity/).
IDENTITY_MIRROR = True
IDENTITY_THRESHOLD = 0.80
IDENTITY_TEXTURE = {"weight": 0.25, "size": 48, "grid": 4}
#: Texture weights the report's held-out check chooses among.
IDENTITY_TEXTURE_WEIGHTS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.4)
#: Identification accuracy the held-out threshold check aims for, and the thresholds it tries.
IDENTITY_TARGET = 0.95
IDENTITY_THRESHOLD_GRID = tuple(round(0.40 + 0.01 * i, 2) for i in range(81))

#: Video frames decoded ahead in a background thread (0: decode inline).
FRAME_PREFETCH = 0
#: ``ferkit bench``: timing windows per rate, the fastest kept.
TIMING_ROUNDS = 3

#: Test-time augmentation: pixels by which the shifted views move the face (``--tta N``, expression/tta.py).
TTA_SHIFT = 2

#: ``ferkit crossval``: hold-out test fraction, validation fraction of a training part, folds.
CROSSVAL_TEST_FRACTION = 0.2
CROSSVAL_VAL_FRACTION = 0.1
CROSSVAL_FOLDS = 10
#: A run whose 1-minute load average exceeded this many times its cores is recorded as sharing the CPU.
SHARED_CPU_LOAD = 1.5

#: Default batch size for expression classification.
CLASSIFY_BATCH = 256
#: `train --init`: training faces on which the batch norms of an ONNX model's folded convolutions are re-measured
INIT_CALIBRATION_FACES = 1024
#: Training precisions (`ferkit train`, `bench --train`, `zoo`); auto: bf16 where the device computes it natively.
TRAIN_PRECISIONS = ("auto", "32-true", "bf16-mixed", "16-mixed", "bf16-true")
#: Training batches: device (the face set on the training device, index batches sliced there) or loader (DataLoader).
DATA_PATHS = ("device", "loader")
#: Learning-rate rule for a global batch other than the recipe's (training.recipes.lr_scaling).
LR_SCALES = ("auto", "linear", "sqrt", "none")
#: Freed memory during training: keep it in the process for reuse (utils.memory; no page faults per step) or return.
FREED_MEMORY = ("keep", "return")
#: `ferkit zoo`'s default teachers (model:recipe): the two strongest GPU runs so far (vgg16, resnet18_fc), paper
#: 001's rmn on ferkit's recipe (its own recipe assumes ImageNet weights), an EmoXNet member not yet tried
#: (seresnet34), and the paper rows that need a GPU (dcnn6 on paper 000's recipe, resnet50_fc on paper 002's).
ZOO_MEMBERS = (
    "vgg16:ferkit",
    "resnet18_fc:ferkit",
    "rmn:ferkit",
    "seresnet34:ferkit",
    "dcnn6:paper000",
    "resnet50_fc:paper002",
)
#: A zoo's pack: at most this many files (the manifest included), each under 16 MiB.
PACK_MAX_FILES = 8
PACK_FILE_LIMIT = (16 << 20) - 1
#: torch.compile modes; reduce-overhead adds CUDA graphs on GPUs.
COMPILE_MODES = ("default", "reduce-overhead", "max-autotune")

#: BGR colour per emotion for annotations and plots.
EMOTION_COLORS: dict[str, tuple[int, int, int]] = {
    "angry": (40, 40, 220),
    "disgust": (40, 140, 40),
    "fear": (160, 60, 160),
    "happy": (40, 200, 240),
    "sad": (200, 120, 40),
    "surprise": (30, 140, 255),
    "neutral": (170, 170, 170),
    "contempt": (90, 90, 140),
}
#: Faces at least this wide (px) get a probability bar chart beside their box in annotations.
BARS_MIN_FACE = 60
#: Images or video frames analysed together: their faces are classified in one batch.
FRAME_BATCH = 16
#: IoU above which a face in a new frame continues an existing track; frames a track survives unseen.
TRACK_IOU, TRACK_MAX_MISSES = 0.3, 12
#: Tracks seen in fewer analysed frames are left out of the per-person summary.
TRACK_MIN_FRAMES = 5
