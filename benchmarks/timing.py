"""Timing helper shared by the benchmark scripts (run from this folder's parent or any cwd)."""

import time

import numpy as np


def median_time(func, repeats, *, warmup=False):
    """Median wall-clock time of ``func()`` over ``repeats`` calls, after one untimed call if ``warmup``."""
    if warmup:
        func()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return float(np.median(times))
