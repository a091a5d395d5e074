"""Datasets in their standard layouts, read from the shared copies."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from ferkit.config import EMOTIONS
from ferkit.data import FER2013, CKPlus, FERPlus, ImageFolderFaces, load_dataset, write_fer2013_csv
from ferkit.errors import DatasetLayoutError

PRIVATE_COUNTS = {"angry": 491, "disgust": 55, "fear": 528, "happy": 879, "sad": 594, "surprise": 416, "neutral": 626}


def test_fer2013_zip_official_split(private_test, fer_zip):
    assert len(private_test) == 3589
    assert private_test.counts() == PRIVATE_COUNTS
    assert private_test.images.shape == (3589, 48, 48) and private_test.images.dtype == np.uint8
    assert all(n.rsplit("/", 1)[-1].startswith("PrivateTest_") for n in private_test.names)
    public = FER2013(fer_zip, "publictest")
    assert len(public) == 3589 and public.counts()["happy"] == 895


def test_fer2013_folder_equals_zip(fer_zip, tmp_path):
    with zipfile.ZipFile(fer_zip) as z:
        members = [n for n in z.namelist() if "/PublicTest_" in n][:300]
        z.extractall(tmp_path / "fer", members)
    folder = FER2013(tmp_path / "fer", "PublicTest")
    full = FER2013(fer_zip, "PublicTest")
    idx = [full.names.index(n) for n in folder.names]
    assert len(folder) == 300
    np.testing.assert_array_equal(folder.images, full.images[idx])
    np.testing.assert_array_equal(folder.labels, full.labels[idx])


def test_fer2013_csv_loads_like_folders(private_test, fer_zip, tmp_path):
    """A fer2013.csv made from a few hundred images loads identically to the image-folder layout."""
    train = FER2013(fer_zip, "Training").subset(np.arange(0, 28709, 100))
    priv = private_test.subset(np.arange(0, 3589, 20))
    csv_path = tmp_path / "fer2013.csv"
    write_fer2013_csv([train, priv], csv_path)
    for ref in (train, priv):
        got = FER2013(csv_path, ref.split)
        assert len(got) == len(ref) > 100
        np.testing.assert_array_equal(got.images, ref.images)
        np.testing.assert_array_equal(got.labels, ref.labels)


def test_fer2013_wrong_layout_is_a_clear_error(shared, tmp_path):
    with pytest.raises(DatasetLayoutError, match="not a FER2013 layout"):
        FER2013(shared / "ckplus48.tar", "PrivateTest")
    bad_csv = tmp_path / "x.csv"
    bad_csv.write_text("a,b\n1,2\n")
    with pytest.raises(DatasetLayoutError, match="expected columns emotion, pixels, Usage"):
        FER2013(bad_csv, "Training")
    with pytest.raises(DatasetLayoutError, match="no such file"):
        FER2013(tmp_path / "missing", "Training")
    with pytest.raises(DatasetLayoutError, match="unknown FER2013 split"):
        FER2013(shared / "fer2013_images.zip", "holdout")


def test_ferplus_majority_labels(shared):
    test = FERPlus(shared / "ferplus" / "fer2013new.csv", shared / "ferplus" / "ferplus_images.zip", "PrivateTest")
    # FER+ test has 3,573 images; a few have no majority or are voted unknown / not a face.
    assert 3000 < len(test) < 3573 and test.skipped["dropped"] > 0
    assert test.votes.shape == (len(test), 7)
    assert np.array_equal(test.votes.argmax(1), test.labels) or (test.votes.argmax(1) == test.labels).mean() > 0.99
    assert test.counts()["neutral"] > test.counts()["disgust"]


def test_ckplus_folders_and_subjects(shared):
    ck = CKPlus(shared / "ckplus48.tar")
    assert len(ck) == 981
    assert ck.counts() == {
        "angry": 135,
        "contempt": 54,
        "disgust": 177,
        "fear": 75,
        "happy": 207,
        "sad": 84,
        "surprise": 249,
    }
    assert len(set(ck.subjects)) > 100 and ck.subjects[0].startswith("S")


def test_image_folder_synonyms_and_skipped_classes(private_test, tmp_path):
    import cv2

    names = {"Anger": 0, "happiness": 3, "SURPRISED": 5, "contempt": 6}
    for folder, label in names.items():
        (tmp_path / "set" / folder).mkdir(parents=True)
        for i in np.flatnonzero(private_test.labels == label)[:5]:
            cv2.imwrite(str(tmp_path / "set" / folder / f"{i}.png"), cv2.resize(private_test.images[i], (96, 96)))
    ds = load_dataset("folder", tmp_path / "set")
    assert ds.classes == EMOTIONS
    assert ds.counts()["angry"] == 5 and ds.counts()["happy"] == 5 and ds.counts()["surprise"] == 5
    assert ds.skipped == {"contempt": 5}
    assert ds.images.shape[1:] == (48, 48)
    with pytest.raises(DatasetLayoutError, match="no images in class folders"):
        ImageFolderFaces(tmp_path / "set" / "Anger")


def test_ferplus_from_fer2013_csv_matches_ferplus_images(shared, fer_zip, tmp_path):
    """FER+ votes joined to a fer2013.csv (official row order, rebuilt from the shared row index) give the same
    labels as the FER+ image layout, and the same faces up to JPEG loss."""
    import csv

    kaggle = FER2013(fer_zip, "PrivateTest")
    by_name = {n: i for i, n in enumerate(kaggle.names)}
    rows = {}
    with open(shared / "fer2013_kaggle_row_index.csv") as f:
        for r in csv.DictReader(f):
            if r["usage"] == "PrivateTest" and r["fer2013_row"]:
                rows[int(r["fer2013_row"])] = by_name[r["kaggle_image"]]
    first = min(rows)
    n_rows = 3589
    csv_path = tmp_path / "fer2013.csv"
    with open(csv_path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["emotion", "pixels", "Usage"])
        for row in range(first, first + n_rows):
            img = kaggle.images[rows[row]] if row in rows else np.zeros((48, 48), np.uint8)
            w.writerow([kaggle.labels[rows[row]] if row in rows else 0, " ".join(map(str, img.ravel())), "PrivateTest"])
    votes = shared / "ferplus" / "fer2013new.csv"
    from_csv = FERPlus(votes, csv_path, "PrivateTest")
    from_png = FERPlus(votes, shared / "ferplus" / "ferplus_images.zip", "PrivateTest")
    common = sorted(set(from_csv.names) & set(from_png.names))
    assert len(common) > 3000
    a = [from_csv.names.index(n) for n in common]
    b = [from_png.names.index(n) for n in common]
    np.testing.assert_array_equal(from_csv.labels[a], from_png.labels[b])
    mse = ((from_csv.images[a].astype(float) - from_png.images[b]) ** 2).mean(axis=(1, 2))
    assert np.median(mse) < 6  # JPEG vs lossless PNG of the same face


def test_rafdb_miniature_layout(private_test, tmp_path):
    """A miniature in RAF-DB's basic layout, built from shared FER2013 faces saved as 100x100 colour images."""
    import cv2

    from ferkit.data import RAFDB
    from ferkit.data.rafdb import RAFDB_LABELS

    ours_to_raf = {v: k for k, v in RAFDB_LABELS.items()}
    (tmp_path / "EmoLabel").mkdir()
    (tmp_path / "Image" / "aligned").mkdir(parents=True)
    lines, expected = [], {"train": [], "test": []}
    for i in range(40):
        split = "train" if i < 30 else "test"
        name = f"{split}_{i:05d}.jpg"
        face = cv2.cvtColor(cv2.resize(private_test.images[i], (100, 100)), cv2.COLOR_GRAY2BGR)
        cv2.imwrite(str(tmp_path / "Image" / "aligned" / name.replace(".jpg", "_aligned.jpg")), face)
        lines.append(f"{name} {ours_to_raf[EMOTIONS[private_test.labels[i]]]}")
        expected[split].append(private_test.labels[i])
    (tmp_path / "EmoLabel" / "list_patition_label.txt").write_text("\n".join(lines) + "\n")
    train, test = RAFDB(tmp_path, "train"), RAFDB(tmp_path, "test")
    assert len(train) == 30 and len(test) == 10
    np.testing.assert_array_equal(train.labels, expected["train"])
    diff = np.abs(train.images.astype(int) - private_test.images[:30].astype(int)).mean()
    assert diff < 8  # the same faces back, up to resizing and JPEG (different faces differ by ~75)
    with pytest.raises(DatasetLayoutError, match="not RAF-DB"):
        RAFDB(tmp_path / "Image", "train")


def test_ckplus_protocols(shared):
    from ferkit.data import random_split, subject_folds

    ck = CKPlus(shared / "ckplus48.tar")
    tr, te = random_split(ck, 0.2)
    assert len(te) == pytest.approx(0.2 * len(ck), abs=7) and not set(tr) & set(te)
    assert set(ck.subjects[tr]) & set(ck.subjects[te])  # the random split shares subjects: it leaks
    folds = subject_folds(ck.subjects, 10)
    assert len(folds) == 10
    assert sorted(np.concatenate([t for _, t in folds]).tolist()) == list(range(len(ck)))
    for train_idx, test_idx in folds:
        assert not set(ck.subjects[train_idx]) & set(ck.subjects[test_idx])
        assert 0.05 * len(ck) < len(test_idx) < 0.15 * len(ck)


def test_ferplus8_keeps_contempt_and_vote_targets(shared):
    """`ferplus8`: the 8-class majority vote (with contempt); `targets=votes` trains on normalised vote shares."""
    pytest.importorskip("torch", reason="training needs the train extra")
    from ferkit.data import load_dataset
    from ferkit.training.train import _tensors

    csv, images = shared / "ferplus" / "fer2013new.csv", shared / "ferplus" / "ferplus_images.zip"
    eight = load_dataset("ferplus8", csv, "PrivateTest", images=images)
    seven = load_dataset("ferplus", csv, "PrivateTest", images=images)
    assert eight.classes[-1] == "contempt" and eight.counts()["contempt"] > 0 and len(eight) > len(seven)
    _, y = _tensors(seven, targets="votes")
    assert y.shape == (len(seven), 7) and np.allclose(y.sum(1).numpy(), 1, atol=1e-6)
    assert (y.argmax(1).numpy() == seven.labels).mean() > 0.99
    with pytest.raises(ValueError, match="vote"):
        _tensors(load_dataset("ckplus", shared / "ckplus48.tar"), targets="votes")
    with pytest.raises(DatasetLayoutError, match="images"):
        load_dataset("ferplus", csv, "PrivateTest")
