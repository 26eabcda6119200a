"""What both bridges use."""

from __future__ import annotations

from typing import Any

import numpy as np


def shared_or_array(x: Any) -> Any:
    """A float when every value is the same (a shared parameter), else the array."""
    x = np.asarray(x, dtype=float)
    return float(x.reshape(-1)[0]) if x.size and np.all(x == x.reshape(-1)[0]) else x
