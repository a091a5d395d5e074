"""A real `ferkit serve` process over HTTP, and its browser app in headless Chromium (Debian's chromium and
chromium-driver, driven by Selenium): the Solvay photo's faces boxed and labelled; the webcam page fed the bundled
clip through Chromium's fake camera shows live boxes."""

from __future__ import annotations

import json
import os
import shutil
import time
import urllib.request
from pathlib import Path

import cv2
import pytest

from tests.conftest import CLIP, SOLVAY

pytest.importorskip("fastapi", reason="ferkit serve needs the serve extra")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`ferkit serve` on a free port, as a user starts it; its URL once /readyz answers."""
    from ferkit.serve.process import serve_process

    with serve_process(["--jobs-dir", str(tmp_path_factory.mktemp("jobs"))]) as s:
        yield s.url
    assert "Traceback" not in s.stderr, s.stderr


def test_a_server_that_cannot_start_says_why():
    """serve_process (the serve bench's and these tests' starter) raises with the server's own one-line error."""
    from ferkit.errors import FerkitError
    from ferkit.serve.process import serve_process

    with pytest.raises(FerkitError, match="did not start: .*--model: unknown or untrained model 'no_such_model'"):
        with serve_process(["--model", "no_such_model"]):
            pass


def test_real_process_answers_over_http(server):
    req = urllib.request.Request(f"{server}/v1/analyze", data=SOLVAY.read_bytes(), method="POST")
    with urllib.request.urlopen(req, timeout=60) as r:
        body = json.loads(r.read())
    assert len(body["faces"]) == 29
    bad = urllib.request.Request(f"{server}/v1/analyze", data=b"junk", method="POST")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(bad, timeout=30)
    assert e.value.code == 400 and "not a readable image" in json.loads(e.value.read())["error"]


def _chromium(extra: list[str] = ()):
    webdriver = pytest.importorskip("selenium.webdriver", reason="the browser tests need selenium")
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not binary or not driver_path:
        pytest.skip("no chromium / chromedriver (Debian: apt-get install chromium chromium-driver; .ci/run does)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1200,1400", *extra):
        options.add_argument(arg)
    return webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver_path))


def _open(browser, url: str, seconds: float = 60) -> None:
    """Load the app, again if a first load came back blank (a browser starting on a busy machine)."""
    end = time.time() + seconds
    browser.get(url)
    while not browser.title.startswith("ferkit") and time.time() < end:
        time.sleep(1)
        browser.get(url)
    assert browser.title.startswith("ferkit"), browser.page_source[:300]


def _wait_for(check, seconds: float = 60):
    end = time.time() + seconds
    while time.time() < end:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    return check()


def test_browser_boxes_the_solvay_faces(server, tmp_path):
    from selenium.webdriver.common.by import By

    browser = _chromium()
    try:
        _open(browser, server + "/")
        browser.find_element(By.ID, "photo-input").send_keys(str(SOLVAY))
        figure = _wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "figure.photo[data-faces]"))
        assert figure, browser.find_element(By.ID, "photos").text
        boxes = browser.find_elements(By.CSS_SELECTOR, "figure.photo .face-box")
        labels = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "figure.photo .face-label")]
        assert len(boxes) == len(labels) == 29 and figure[0].get_attribute("data-faces") == "29"
        assert all(
            label.split()[0].rstrip("?") in {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"}
            for label in labels
        )
        assert len(browser.find_elements(By.CSS_SELECTOR, ".face-card")) == 29
        assert browser.find_element(By.ID, "download-csv").is_enabled()
        shot = Path(os.environ.get("FERKIT_SCREENSHOT_DIR", tmp_path)) / "serve_browser_solvay.png"
        figure[0].screenshot(str(shot))
        assert shot.stat().st_size > 50_000
    finally:
        browser.quit()


def test_browser_webcam_shows_live_boxes(server, tmp_path):
    """Chromium's fake camera plays a .y4m made from the bundled clip; the webcam page boxes its faces live."""
    from selenium.webdriver.common.by import By

    y4m = tmp_path / "clip.y4m"
    _write_y4m(CLIP, y4m, frames=96)
    browser = _chromium(
        [
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={y4m}",
        ]
    )
    try:
        _open(browser, server + "/")
        browser.find_element(By.ID, "tab-webcam").click()
        browser.find_element(By.ID, "webcam-start").click()
        boxes = _wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#webcam-overlay .face-box"), 60)
        status = browser.find_element(By.ID, "webcam-status").text
        assert boxes, status
        assert browser.find_elements(By.CSS_SELECTOR, "#webcam-overlay .face-label") and "ms per frame" in status
        browser.find_element(By.ID, "webcam-stop").click()
    finally:
        browser.quit()


def _write_y4m(video: Path, out: Path, frames: int) -> None:
    """Frames of ``video`` as a YUV4MPEG2 file (4:2:0), the format Chromium's fake camera reads; the frames that
    hold faces (from the 2nd second on) first."""
    cap = cv2.VideoCapture(str(video))
    cap.set(cv2.CAP_PROP_POS_FRAMES, 48)
    with open(out, "wb") as f:
        for i in range(frames):
            ok, frame = cap.read()
            if not ok:
                break
            h, w = frame.shape[:2]
            if i == 0:
                f.write(f"YUV4MPEG2 W{w} H{h} F24:1 Ip A1:1 C420jpeg\n".encode())
            f.write(b"FRAME\n" + cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())
    cap.release()
