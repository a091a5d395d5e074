"""``ferkit train`` (Lightning): a short real run on FER2013, resume from the last checkpoint, ONNX export."""

from __future__ import annotations


def test_hardware_says_when_other_jobs_shared_the_cpu():
    """A run during which the load average exceeded 1.5 x the cores is marked, so its time is not taken at face
    value; the sampler reads the real load average."""
    import os

    from ferkit.training.hardware import CpuLoad, hardware

    cores = os.cpu_count()
    assert "CPU shared" in hardware(peak_load=2.0 * cores) and "CPU shared" not in hardware(peak_load=0.5 * cores)
    with CpuLoad(every=0.01) as load:
        sum(i * i for i in range(200_000))
    assert load.peak is not None and load.peak >= 0
