"""Memory checks made before an allocation that could exceed the machine.

An estimator whose memory need grows faster than its input (a learned
``n_features x n_features`` matrix per layer, say) states the need in its
docstring and calls :func:`check_memory` before allocating, so that the user
gets a message naming the parameters responsible, instead of a
``MemoryError`` after minutes of swapping or a killed process.
"""

import os
import resource


def machine_memory_bytes():
    """Physical memory of the machine, or the process's address-space limit when lower (None if unknown)."""
    limits = []
    try:
        limits.append(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        pass
    soft = resource.getrlimit(resource.RLIMIT_AS)[0]
    if soft != resource.RLIM_INFINITY:
        limits.append(soft)
    return min(limits) if limits else None


def check_memory(needed_bytes, what, advice):
    """Raise ``MemoryError`` up front when ``needed_bytes`` exceeds :func:`machine_memory_bytes`.

    Parameters
    ----------
    needed_bytes : int
    what : str
        What needs the memory, with the parameters that set it.
    advice : str
        How to need less.
    """
    available = machine_memory_bytes()
    if available is not None and needed_bytes > available:
        raise MemoryError(
            f"{what} needs about {needed_bytes / 2**30:.3g} GiB, more than the "
            f"{available / 2**30:.3g} GiB available; {advice}"
        )


# Temporaries a solver may allocate at once for a block of targets (per-target k x k blocks, tables...).
BLOCK_BYTES = 16 * 2**20


def row_blocks(n_rows, bytes_per_row, max_bytes=None):
    """Consecutive slices of ``range(n_rows)`` whose temporaries take at most ``max_bytes`` (one row at least).

    Parameters
    ----------
    n_rows : int
        Rows (targets) to process.
    bytes_per_row : int
        Size of one row's temporaries.
    max_bytes : int or None
        None for the module's ``BLOCK_BYTES``.
    """
    if max_bytes is None:
        max_bytes = BLOCK_BYTES
    size = max(1, int(max_bytes // max(1, bytes_per_row)))
    return [slice(start, min(start + size, n_rows)) for start in range(0, n_rows, size)]
