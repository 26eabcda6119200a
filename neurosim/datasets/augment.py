"""Data augmentation for static image data."""

import math

import numpy as np
from jaxtyping import Float, Int, Real

__all__ = ["shifted_copies"]


def shifted_copies(
    x: Real[np.ndarray, "n pixels"], y: Int[np.ndarray, " n"]
) -> tuple[Float[np.ndarray, "n5 pixels"], Int[np.ndarray, " n5"]]:
    """Square images and the four copies moved by one pixel.

    Args:
        x: images `(n, side * side)`, row-major.
        y: labels `(n,)`.

    Returns:
        `(x5, y5)`: the originals first, then the copies moved up, down, left
        and right (zeros shifted in), `(5 n, side * side)`; the labels tiled
        to match, `(5 n,)`.

    Raises:
        ValueError: the images are not square.

    Examples:
        >>> x5, y5 = shifted_copies(np.arange(4.0).reshape(1, 4), np.array([7]))
        >>> x5.reshape(5, 2, 2)[1].tolist(), y5.tolist()
        ([[2.0, 3.0], [0.0, 0.0]], [7, 7, 7, 7, 7])
    """
    x = np.asarray(x)
    side = math.isqrt(x.shape[1]) if x.ndim == 2 else 0
    if x.ndim != 2 or side * side != x.shape[1]:
        raise ValueError(
            f"x: expected square images (n, side * side), got shape {x.shape}."
        )
    img = x.reshape(-1, side, side)
    copies = [img]
    for axis in (1, 2):
        for step in (-1, 1):
            moved = np.roll(img, step, axis=axis)
            edge = [slice(None)] * 3
            edge[axis] = 0 if step == 1 else -1
            moved[tuple(edge)] = 0
            copies.append(moved)
    return np.concatenate(copies).reshape(-1, side * side), np.tile(y, len(copies))
