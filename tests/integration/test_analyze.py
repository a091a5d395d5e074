"""``ferkit analyze`` and the Python API on real photos and the real video; bad input."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from ferkit import EMOTIONS, Analyzer
from ferkit.errors import BadInputError, UnknownNameError
from ferkit.utils.io import read_image
from tests.conftest import run_cli


def _check_records(records):
    for r in records:
        assert r["emotion"] in EMOTIONS
        assert set(r["probabilities"]) == set(EMOTIONS)
        assert sum(r["probabilities"].values()) == pytest.approx(1.0, abs=1e-3)
        assert r["emotion"] == max(r["probabilities"], key=r["probabilities"].get)
        x1, y1, x2, y2 = r["box"]
        assert x2 > x1 and y2 > y1


def test_analyze_group_photo_cli(demo, tmp_path):
    out = tmp_path / "out"
    p = run_cli("analyze", demo / "Solvay_conference_1927.jpg", "--out", out, check=True)
    records = json.loads((out / "results.json").read_text())
    assert len(records) == 29  # every person in the photo
    _check_records(records)
    csv_lines = (out / "results.csv").read_text().strip().splitlines()
    assert len(csv_lines) == len(records) + 1 and "p_happy" in csv_lines[0]
    annotated = read_image(out / "annotated" / "Solvay_conference_1927.jpg")
    assert annotated.shape == read_image(demo / "Solvay_conference_1927.jpg").shape
    assert "faces" in p.stdout


def test_analyze_portraits_emotions(demo):
    """The smiling astronaut portrait is happy; the API returns results with every probability."""
    app = Analyzer()
    res = app(demo / "astronaut.png")
    assert len(res.faces) == 1 and res.faces[0].emotion == "happy"
    df = res.to_pandas()
    assert list(df["emotion"]) == ["happy"] and "p_neutral" in df.columns
    assert json.loads(res.to_json())[0]["box"] == [round(v, 1) for v in res.faces[0].box]
    assert res.plot().shape == res.image.shape


def test_analyze_array_and_batch(demo):
    app = Analyzer()
    imgs = [read_image(demo / n) for n in ("laos.jpg", "two_people.jpg", "city_portrait.jpg")]
    results = app.analyze_frames(imgs, ["a", "b", "c"])
    assert [len(r) for r in results] == [2, 2, 1]
    assert len(app(imgs[0]).faces) == 2
    _check_records([rec for r in results for rec in r.records()])


def test_analyze_folder_with_a_bad_file(demo, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for n in ("laos.jpg", "two_people.jpg"):
        shutil.copy(demo / n, folder / n)
    data = (demo / "city_portrait.jpg").read_bytes()
    (folder / "cut.jpg").write_bytes(data[: len(data) // 2])
    p = run_cli("analyze", folder, "--out", tmp_path / "out")
    assert p.returncode == 1
    assert "cut.jpg" in p.stderr and "truncated" in p.stderr
    records = json.loads((tmp_path / "out" / "results.json").read_text())
    assert len(records) == 4 and {r["source"].rsplit("/", 1)[-1] for r in records} == {"laos.jpg", "two_people.jpg"}


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda p, d: p.write_bytes((d / "city_portrait.jpg").read_bytes()[:20000]), "truncated JPEG"),
        (lambda p, d: p.write_text("not an image at all"), "not a readable image"),
        (lambda p, d: p.write_bytes(b""), "empty file"),
    ],
)
def test_bad_single_image_writes_nothing(demo, tmp_path, make, message):
    src = tmp_path / "bad.jpg"
    make(src, demo)
    p = run_cli("analyze", src, "--out", tmp_path / "out")
    assert p.returncode != 0
    err = p.stderr.strip().splitlines()
    assert len(err) == 1 and "bad.jpg" in err[0] and message in err[0]
    assert not (tmp_path / "out" / "results.json").exists()


def test_unknown_names_and_missing_source(demo, tmp_path):
    for args, msg in [
        (("--model", "nope"), "unknown or untrained model 'nope'"),
        (("--detector", "nope"), "unknown detector 'nope'"),
    ]:
        p = run_cli("analyze", demo / "laos.jpg", "--out", tmp_path / "o", *args)
        assert p.returncode == 2 and msg in p.stderr
    p = run_cli("analyze", tmp_path / "missing.jpg", "--out", tmp_path / "o")
    assert p.returncode == 2 and "missing.jpg: no such file" in p.stderr
    with pytest.raises(UnknownNameError):
        Analyzer(model="nope")
    with pytest.raises(BadInputError):
        Analyzer()(tmp_path / "missing.jpg")


def test_no_face_image_is_not_an_error(demo, tmp_path):
    import cv2

    img = read_image(demo / "Solvay_conference_1927.jpg")[420:, :]
    cv2.imwrite(str(tmp_path / "floor.png"), img)
    p = run_cli("analyze", tmp_path / "floor.png", "--out", tmp_path / "out", check=True)
    assert "0 faces, 1 images without a face" in p.stdout
    records = json.loads((tmp_path / "out" / "results.json").read_text())
    assert records == [
        {"source": str(tmp_path / "floor.png"), "frame": None, "face": None, "emotion": None, "no_face": True}
    ]
    assert "no_face" in (tmp_path / "out" / "results.csv").read_text().splitlines()[0]


def test_analyze_video(demo, tmp_path):
    """The shared 10 s clip: annotated video, per-track summary, emotion-over-time plot, records per frame."""
    import cv2

    out = tmp_path / "out"
    run_cli("analyze", demo / "tears_of_steel_clip_640x360_10s.mp4", "--out", out, check=True)
    records = json.loads((out / "results.json").read_text())
    _check_records(records)
    frames = {r["frame"] for r in records}
    assert len(records) == 189 and len(frames) == 180 and min(frames) == 21  # measured (reports/speed.json: 189)
    assert all("track" in r for r in records)
    summary = json.loads((out / "tears_of_steel_clip_640x360_10s_summary.json").read_text())
    assert summary["frames"] == 240 and summary["tracks"]
    # three people show a face (the man on the bridge, the man with glasses, the woman at the end: checked by eye)
    assert summary["people"] == 3 and len(summary["tracks"]) == 3
    for t in summary["tracks"]:
        assert t["dominant_emotion"] in EMOTIONS and sum(t["share"].values()) == pytest.approx(1, abs=1e-3)
    cap = cv2.VideoCapture(str(out / "tears_of_steel_clip_640x360_10s_annotated.mp4"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 240
    assert read_image(out / "tears_of_steel_clip_640x360_10s_emotions.png").shape[0] > 100


def test_video_pipeline_equals_frame_by_frame(demo, tmp_path):
    """The streaming pipeline (decoding in a background thread, faces batched across frames) gives the records that
    analysing each decoded frame on its own gives."""
    import cv2

    from ferkit.app.analyzer import Analyzer
    from ferkit.app.settings import AnalyzeSettings
    from ferkit.app.video import analyze_video

    clip = demo / "tears_of_steel_clip_640x360_10s.mp4"
    app = Analyzer()
    streamed = analyze_video(app, str(clip), tmp_path, AnalyzeSettings(annotate=False, prefetch=32), progress=False)
    cap = cv2.VideoCapture(str(clip))
    for res in streamed:
        ok, frame = cap.read()
        assert ok
        alone = app(frame)
        assert len(alone.faces) == len(res.faces)
        for a, b in zip(alone.faces, res.faces):
            assert a.box == b.box and a.emotion == b.emotion
            assert np.allclose(list(a.probabilities.values()), list(b.probabilities.values()), atol=1e-5)
    assert not cap.read()[0]


def test_detect_every_and_smoothing(demo, tmp_path):
    """--detect-every 3: the detector runs on frames 0, 3, 6...; the frames between reuse those boxes.
    --smooth 0.6: per track, smoothed = 0.6 * previous smoothed + 0.4 * probabilities."""
    from ferkit.app.analyzer import Analyzer
    from ferkit.app.settings import AnalyzeSettings
    from ferkit.app.video import analyze_video
    from ferkit.detection import create_detector

    class Counting:
        def __init__(self):
            self.inner, self.calls = create_detector("default"), 0
            self.name = self.inner.name

        def detect(self, img):
            self.calls += 1
            return self.inner.detect(img)

    det = Counting()
    res = analyze_video(
        Analyzer(det),
        str(demo / "tears_of_steel_clip_640x360_10s.mp4"),
        tmp_path,
        AnalyzeSettings(max_frames=90, annotate=False, detect_every=3, smooth=0.6),
        progress=False,
    )
    assert len(res) == 90 and det.calls == 30
    for r in res:
        if r.frame % 3:
            assert [f.box for f in r.faces] == [f.box for f in res[r.frame - 1].faces]
    last: dict = {}
    for r in res:
        for f in r.faces:
            p = np.array(list(f.probabilities.values()))
            want = p if f.track_id not in last else 0.6 * last[f.track_id] + 0.4 * p
            assert np.allclose(list(f.smoothed.values()), want, atol=1e-6)
            last[f.track_id] = want
    assert last  # faces were seen


def test_live_view_streams_annotated_frames(demo, tmp_path):
    """--serve: the annotated frames of a video are streamed as MJPEG on the loopback interface."""
    import threading
    import urllib.request

    import cv2

    from ferkit.app.analyzer import Analyzer
    from ferkit.app.live import BOUNDARY, FrameServer
    from ferkit.app.settings import AnalyzeSettings
    from ferkit.app.video import analyze_video

    server = FrameServer(port=0)
    parts: list[bytes] = []

    def read_stream():
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/", timeout=60) as r:
            buf = b""
            while len(parts) < 3:
                chunk = r.read(4096)
                if not chunk:
                    break
                buf += chunk
                while buf.count(b"--" + BOUNDARY) >= 2:
                    head, _, rest = buf.partition(b"--" + BOUNDARY)
                    first, _, buf = rest.partition(b"--" + BOUNDARY)
                    buf = b"--" + BOUNDARY + buf
                    parts.append(first.split(b"\r\n\r\n", 1)[1].rstrip(b"\r\n"))

    app = Analyzer()
    reader = threading.Thread(target=read_stream, daemon=True)
    try:
        reader.start()
        assert server.wait_viewer(timeout=30)  # the stream is open before the first frame is published
        analyze_video(
            app,
            str(demo / "tears_of_steel_clip_640x360_10s.mp4"),
            tmp_path,
            AnalyzeSettings(max_frames=48, annotate=False),
            progress=False,
            on_frame=server.publish,
        )
        reader.join(timeout=60)
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/frame.jpg", timeout=10) as r:
            last = cv2.imdecode(np.frombuffer(r.read(), np.uint8), cv2.IMREAD_COLOR)
    finally:
        server.close()
    assert last.shape == (360, 640, 3)
    assert len(parts) >= 2
    assert all(cv2.imdecode(np.frombuffer(p, np.uint8), cv2.IMREAD_COLOR).shape == (360, 640, 3) for p in parts)
