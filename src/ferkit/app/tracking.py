"""IoU tracker: faces keep a track id across video frames."""

from __future__ import annotations

import numpy as np

from ferkit.config import TRACK_IOU, TRACK_MAX_MISSES
from ferkit.detection.nms import box_iou


class IoUTracker:
    """Greedy IoU matching of each frame's boxes to live tracks; a track ends after ``max_misses`` unseen frames."""

    def __init__(self, iou: float = TRACK_IOU, max_misses: int = TRACK_MAX_MISSES):
        self.iou, self.max_misses = iou, max_misses
        self.tracks: dict[int, tuple[np.ndarray, int]] = {}  # id -> (last box, frames unseen)
        self.next_id = 0

    def update(self, boxes: np.ndarray) -> list[int]:
        """Track ids for this frame's (N, 4) boxes."""
        ids = list(self.tracks)
        assigned: list[int | None] = [None] * len(boxes)
        if ids and len(boxes):
            iou = box_iou(np.asarray(boxes, float), np.stack([self.tracks[i][0] for i in ids]))
            while iou.size and iou.max() > self.iou:
                r, c = np.unravel_index(np.argmax(iou), iou.shape)
                assigned[r] = ids[c]
                iou[r, :], iou[:, c] = -1, -1
        for r, tid in enumerate(assigned):
            if tid is None:
                tid, self.next_id = self.next_id, self.next_id + 1
                assigned[r] = tid
        seen = set(assigned)
        for tid in ids:
            if tid not in seen:
                box, miss = self.tracks[tid]
                if miss + 1 > self.max_misses:
                    del self.tracks[tid]
                else:
                    self.tracks[tid] = (box, miss + 1)
        for r, tid in enumerate(assigned):
            self.tracks[tid] = (np.asarray(boxes[r], float), 0)
        return [int(t) for t in assigned]
