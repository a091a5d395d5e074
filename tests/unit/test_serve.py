"""`ferkit serve`'s API on the bundled photo and clip: the same records as `analyze`, every bad input a 4xx JSON
error, limits, the job lifecycle, cancellation, concurrent requests and a full queue."""

from __future__ import annotations

import io
import struct
import threading
import time
import zipfile
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

pytest.importorskip("fastapi", reason="ferkit serve needs the serve extra")
pytest.importorskip("httpx", reason="the API tests need httpx")
from fastapi.testclient import TestClient  # noqa: E402

from ferkit.app.analyzer import Analyzer  # noqa: E402
from ferkit.app.settings import AnalyzeSettings  # noqa: E402
from ferkit.errors import BadOptionError  # noqa: E402
from ferkit.serve import ServeSettings, create_app  # noqa: E402
from tests.conftest import CLIP, SOLVAY, run_cli  # noqa: E402

PHOTO = SOLVAY.read_bytes()


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    jobs = tmp_path_factory.mktemp("jobs")
    with TestClient(create_app(ServeSettings(jobs_dir=str(jobs)))) as c:
        c.jobs_dir = jobs
        yield c


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height pixels (a decompression bomb's header)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = lambda kind, data: struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))  # noqa: E731
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_analyze_gives_the_records_of_the_pipeline(client):
    """Raw body and multipart upload: the 29 Solvay faces, as the Analyzer finds and labels them."""
    expect = Analyzer.from_settings(AnalyzeSettings(threads=1))(cv2.imdecode(np.frombuffer(PHOTO, np.uint8), 1))
    for response in (
        client.post("/v1/analyze", content=PHOTO),
        client.post("/v1/analyze", files={"file": ("solvay.jpg", PHOTO, "image/jpeg")}),
    ):
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["width"], body["height"], body["model"], body["detector"]) == (
            1024,
            512,
            "ferkit_cnn_m2_kd",
            "yunet_masks",
        )
        faces = body["faces"]
        assert len(faces) == 29 and [f["emotion"] for f in faces] == [f.emotion for f in expect.faces]
        np.testing.assert_allclose([f["box"] for f in faces], [f.box for f in expect.faces], atol=0.06)
        assert set(faces[0]) >= {"source", "frame", "face", "box", "score", "emotion", "probabilities", "uncertain"}
    assert faces[0]["source"] == "solvay.jpg"


def test_annotated_image_on_request(client):
    for kw in ({"params": {"annotated": 1}}, {"headers": {"Accept": "image/jpeg"}}):
        r = client.post("/v1/analyze", content=PHOTO, **kw)
        assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
        assert cv2.imdecode(np.frombuffer(r.content, np.uint8), 1).shape == (512, 1024, 3)


BAD = [
    ({"content": b"not an image"}, 400, "not a readable image"),
    ({"content": PHOTO[: len(PHOTO) // 2]}, 400, "truncated JPEG"),
    ({"content": b""}, 400, "empty upload"),
    ({"content": _png_claiming(50_000, 50_000)}, 413, "over the limit"),
    ({"content": PHOTO, "params": {"tta": 11}}, 422, "views per face"),
    ({"content": PHOTO, "params": {"tta": "x"}}, 422, "tta"),
    ({"files": {"other": ("a.jpg", PHOTO, "image/jpeg")}}, 422, "'file' field"),
]


@pytest.mark.parametrize("request_kw,status,message", BAD)
def test_bad_input_is_a_4xx_json_error(client, request_kw, status, message):
    r = client.post("/v1/analyze", **request_kw)
    assert r.status_code == status and r.headers["content-type"] == "application/json"
    assert message in r.json()["error"] and "Traceback" not in r.text


@pytest.mark.parametrize(
    "path",
    [
        "/v1/jobs/../../etc/passwd",
        "/../../etc/passwd",
        "/static/../app.py",
        "/app.js/../../serve/app.py",
        "/v1/jobs/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/v1/jobs/0123456789abcdef0123456789abcdef/results",
        "/static/",
    ],
)
def test_no_path_reaches_files_outside_the_app(client, path):
    r = client.get(path)
    assert r.status_code == 404 and r.json()["status"] == 404
    assert "root:" not in r.text and "create_app" not in r.text


def test_browser_app_files_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and 'src="/app.js"' in page.text and "http" not in page.text.split("<body>")[0]
    assert "getUserMedia" in client.get("/app.js").text and client.get("/style.css").status_code == 200
    assert "https://" not in client.get("/app.js").text  # no CDN: the app works offline


def test_service_endpoints(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json()["model"] == "ferkit_cnn_m2_kd"
    models = client.get("/v1/models").json()
    assert models["serving"] == "ferkit_cnn_m2_kd" and "ferkit_cnn_s" in {m["name"] for m in models["models"]}
    assert "yunet_masks" in {d["name"] for d in client.get("/v1/detectors").json()["detectors"]}
    assert client.get("/openapi.json").json()["paths"]["/v1/analyze"]["post"]
    client.post("/v1/analyze", content=PHOTO)
    text = client.get("/metrics").text
    assert 'ferkit_requests_total{route="/v1/analyze",status="200"}' in text
    assert "ferkit_request_seconds_bucket" in text and "ferkit_queue_depth 0" in text
    faces = int(next(ln.split()[1] for ln in text.splitlines() if ln.startswith("ferkit_faces_classified_total")))
    assert faces >= 29


def _wait(client, job_id: str, seconds: float = 120) -> dict:
    end = time.time() + seconds
    while time.time() < end:
        status = client.get(f"/v1/jobs/{job_id}").json()
        if status["state"] not in ("queued", "running"):
            return status
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish: {status}")


def test_video_job_lifecycle(client):
    r = client.post("/v1/jobs", files={"file": ("tears clip.mp4", CLIP.read_bytes(), "video/mp4")})
    assert r.status_code == 202 and r.headers["location"] == f"/v1/jobs/{r.json()['id']}"
    job = r.json()
    assert job["frames_total"] == 240 and job["state"] in ("queued", "running")
    done = _wait(client, job["id"])
    assert done["state"] == "done" and done["frames_done"] == 240 and done["progress"] == 1.0
    assert done["files"] == ["annotated", "csv", "emotions.png", "results", "summary"]
    records = client.get(f"/v1/jobs/{job['id']}/results").json()
    assert len(records) == 189 and {r["source"] for r in records} == {"tears_clip.mp4"}  # never a server path
    csv = client.get(f"/v1/jobs/{job['id']}/results", params={"format": "csv"}).text.splitlines()
    assert csv[0].startswith("source,frame,face") and len(csv) == 190
    assert client.get(f"/v1/jobs/{job['id']}/summary").json()["frames"] == 240
    assert client.get(f"/v1/jobs/{job['id']}/emotions.png").content[:4] == b"\x89PNG"
    assert len(client.get(f"/v1/jobs/{job['id']}/annotated").content) > 100_000
    assert client.get(f"/v1/jobs/{job['id']}/nope").status_code == 404
    folder = client.jobs_dir / job["id"]
    assert folder.is_dir()
    assert client.delete(f"/v1/jobs/{job['id']}").json()["deleted"]
    assert client.get(f"/v1/jobs/{job['id']}").status_code == 404 and not folder.exists()


def test_zip_job_and_bad_uploads(client):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("../../escape/solvay.jpg", PHOTO)  # a hostile name: flattened, never a path
        z.writestr("notes.txt", "not an image")
    job = client.post("/v1/jobs", files={"file": ("photos.zip", buf.getvalue(), "application/zip")}).json()
    done = _wait(client, job["id"])
    assert done["state"] == "done", done
    records = client.get(f"/v1/jobs/{job['id']}/results").json()
    assert len(records) == 29 and {r["source"] for r in records} == {"00000_solvay.jpg"}
    assert not (client.jobs_dir.parent / "escape").exists()
    bad = client.post("/v1/jobs", files={"file": ("x.mp4", b"not a video", "video/mp4")})
    assert bad.status_code == 400 and "not a readable video" in bad.json()["error"]
    empty_zip = io.BytesIO()
    zipfile.ZipFile(empty_zip, "w").writestr("a.txt", "x")
    bad = client.post("/v1/jobs", files={"file": ("a.zip", empty_zip.getvalue(), "application/zip")})
    assert bad.status_code == 400 and "no image files" in bad.json()["error"]
    running = client.get(f"/v1/jobs/{'f' * 32}")
    assert running.status_code == 404


def test_cancelling_a_running_job_stops_it_and_removes_its_files(client):
    job = client.post("/v1/jobs", files={"file": ("clip.mp4", CLIP.read_bytes(), "video/mp4")}).json()
    while client.get(f"/v1/jobs/{job['id']}").json()["frames_done"] == 0:
        time.sleep(0.05)
    assert client.delete(f"/v1/jobs/{job['id']}").status_code == 200
    assert client.get(f"/v1/jobs/{job['id']}").status_code == 404
    folder = client.jobs_dir / job["id"]
    for _ in range(100):
        if not folder.exists():
            break
        time.sleep(0.1)
    assert not folder.exists()


def test_concurrent_requests_are_all_answered_right(client):
    """12 clients at once: every answer right (the same 29 labels)."""
    answers: list = []

    def ask():
        answers.append(client.post("/v1/analyze", content=PHOTO))

    threads = [threading.Thread(target=ask) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in answers] == [200] * 12
    labels = {tuple(f["emotion"] for f in r.json()["faces"]) for r in answers}
    assert len(labels) == 1 and len(next(iter(labels))) == 29


def test_calls_within_the_window_share_one_batch():
    """8 threads calling at once within a 500 ms window: one batch, each caller its own rows, as if alone."""
    from ferkit.expression.models import load_classifier
    from ferkit.serve.batching import BatchingClassifier

    inner = load_classifier("default", precision="fp32")
    batcher = BatchingClassifier(inner, window_ms=500)
    faces = np.random.default_rng(1).integers(0, 256, (8, 3, 48, 48), dtype=np.uint8)
    start, out = threading.Barrier(8), {}

    def call(i):
        start.wait()
        out[i] = batcher.predict_proba(faces[i])

    threads = [threading.Thread(target=call, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert batcher.batches == 1 and batcher.name == inner.name
    for i in range(8):
        np.testing.assert_allclose(out[i], inner.predict_proba(faces[i]), atol=1e-5)


def test_full_queue_answers_503_and_limits_hold(tmp_path):
    settings = ServeSettings(concurrency=1, queue=1, max_upload_mb=0.5, jobs_dir=str(tmp_path), timeout_s=60)
    with TestClient(create_app(settings)) as c:
        answers: list = []
        threads = [
            threading.Thread(target=lambda: answers.append(c.post("/v1/analyze", content=PHOTO))) for _ in range(16)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = sorted(r.status_code for r in answers)
        assert set(codes) == {200, 503} and codes.count(200) >= 1
        busy = next(r for r in answers if r.status_code == 503)
        assert busy.headers["retry-after"] == "1" and "queue is full" in busy.json()["error"]
        big = c.post("/v1/analyze", content=b"\xff\xd8" + b"0" * (600 << 10))
        assert big.status_code == 413 and "over the limit" in big.json()["error"]
    with TestClient(create_app(ServeSettings(timeout_s=0.001, jobs_dir=str(tmp_path)))) as c:
        slow = c.post("/v1/analyze", content=PHOTO)
        assert slow.status_code == 504 and "limit" in slow.json()["error"]
        for _ in range(200):  # the analysis goes on after the 504; its place is freed when it ends
            if c.app.state.metrics.in_flight == 0:
                break
            time.sleep(0.05)
        assert c.app.state.metrics.in_flight == 0


def test_api_key(tmp_path, monkeypatch):
    monkeypatch.setenv("FERKIT_API_KEY", "s3cret-key")
    with TestClient(create_app(ServeSettings(jobs_dir=str(tmp_path)))) as c:
        assert c.post("/v1/analyze", content=PHOTO).status_code == 401
        assert c.post("/v1/analyze", content=PHOTO, headers={"X-API-Key": "wrong-key!"}).status_code == 401
        assert c.get("/metrics").status_code == 401
        assert c.post("/v1/analyze", content=PHOTO, headers={"X-API-Key": "s3cret-key"}).status_code == 200
        assert c.get("/v1/models", headers={"Authorization": "Bearer s3cret-key"}).status_code == 200
        assert c.get("/healthz").status_code == 200 and c.get("/").status_code == 200


def test_settings_are_checked_before_models_load(capsys):
    with pytest.raises(BadOptionError, match="--port"):
        ServeSettings(port=70000).validate()
    with pytest.raises(BadOptionError, match="--api-key"):
        ServeSettings(api_key="short").validate()
    with pytest.raises(BadOptionError, match="--tta"):
        ServeSettings(analyze=AnalyzeSettings(tta=11)).validate()
    for args, option in (
        (("--port", "70000"), "--port"),
        (("--concurrency", "0"), "--concurrency"),
        (("--model", "nope"), "--model"),
        (("--queue", "-1"), "--queue"),
    ):
        p = run_cli("serve", *args)
        assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1 and option in p.stderr, p.stderr
    assert not Path("ferkit-serve-jobs").exists()
