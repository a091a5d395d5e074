"""Identity: dlib embeddings, LBP texture, gallery files, enrol / identify round trips, CK+ identification."""

from __future__ import annotations

import numpy as np

from ferkit.identity.texture import lbp_codes, lbp_histograms


def test_lbp_codes_of_hand_made_patterns():
    """A bright centre (all neighbours darker): code 0, uniform bin 0; a dark centre: code 255, uniform bin 57; a
    vertical edge (right column brighter, bits 2, 3 and 4): code 28, a uniform pattern; a checkerboard (eight 0/1
    transitions): the non-uniform bin 58."""
    bright = np.array([[0, 0, 0], [0, 9, 0], [0, 0, 0]])
    assert lbp_codes(bright)[0, 0] == 0 and lbp_codes(9 - bright)[0, 0] == 57
    edge = np.array([[0, 0, 9], [0, 5, 9], [0, 0, 9]])
    uniform_codes = [c for c in range(256) if sum(((c >> i) & 1) != ((c >> ((i + 1) % 8)) & 1) for i in range(8)) <= 2]
    assert lbp_codes(edge)[0, 0] == uniform_codes.index(28)
    checker = 9 - np.indices((3, 3)).sum(0) % 2 * 9  # bright centre and corners: bits 1, 0, 1, 0, ...
    assert lbp_codes(checker)[0, 0] == 58
    h = lbp_histograms(np.stack([bright, checker]).astype(np.float32), grid=1)
    assert h.shape == (2, 59) and h[0, 0] == 1.0 and h[1, 58] == 1.0  # sqrt of a one-bin histogram
