"""Drawing helpers shared by every concept set's drawings (PIL on 64x64 images, seeded numpy generators)."""
from __future__ import annotations

import math

import numpy as np


def _jitter(rng, colour, amount=18):
    return tuple(int(np.clip(c + rng.integers(-amount, amount + 1), 0, 255)) for c in colour)


def _rotate(points, cx, cy, angle):
    c, s = math.cos(angle), math.sin(angle)
    return [(cx + (x - cx) * c - (y - cy) * s, cy + (x - cx) * s + (y - cy) * c) for x, y in points]


def _regular(cx, cy, r, n, phase=0.0, inner=None):
    points = []
    for i in range(n * (2 if inner else 1)):
        radius = (r if i % 2 == 0 else inner) if inner else r
        a = phase + i * math.pi / (n if inner else n / 2)
        points.append((cx + radius * math.cos(a), cy + radius * math.sin(a)))
    return points


def _darker(colour, f=0.6):
    return tuple(int(c * f) for c in colour)


def _lighter(colour, f=0.4):
    """``colour`` mixed with white (``f`` = 1: white)."""
    return tuple(int(c + (255 - c) * f) for c in colour)


def _points(cx, cy, r, unit, flip=1, angle=0.0):
    """Unit coordinates (u, v), scaled by ``r`` around (cx, cy), mirrored when ``flip`` is -1, then rotated."""
    out = [(cx + flip * u * r, cy + v * r) for u, v in unit]
    return _rotate(out, cx, cy, angle) if angle else out


def _oval(d, cx, cy, rx, ry, fill=None, outline=None, width=1):
    d.ellipse([cx - rx, cy - ry, cx + rx, cy + ry], fill=fill, outline=outline, width=width)


def _box(d, cx, cy, r, u0, v0, u1, v1, fill, flip=1, outline=None):
    """An axis-parallel rectangle given in unit coordinates (mirrored when ``flip`` is -1)."""
    xs = sorted((cx + flip * u0 * r, cx + flip * u1 * r))
    d.rectangle([xs[0], cy + min(v0, v1) * r, xs[1], cy + max(v0, v1) * r], fill=fill, outline=outline)


def _width(r, f):
    """A line width of ``f`` times ``r``, at least one pixel."""
    return max(1, int(round(r * f)))


def _ubox(cx, cy, r, u0, v0, u1, v1, flip=1):
    """[x0, y0, x1, y1] of a unit-coordinate box, mirrored when ``flip`` is -1 (for ellipses, arcs and chords)."""
    xs = sorted((cx + flip * u0 * r, cx + flip * u1 * r))
    return [xs[0], cy + v0 * r, xs[1], cy + v1 * r]
