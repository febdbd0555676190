"""v2 drawings: buildings and structures (the house keeps v1's drawing).

Every function is ``draw(d, rng, cx, cy, r, colour)``: (cx, cy) the centre, r the half-extent in pixels.
"""
from __future__ import annotations

import math

from ..pen import _box, _darker, _lighter, _oval, _points, _width

GLASS, DOOR = (170, 215, 240), (70, 45, 25)


def draw_castle(d, rng, cx, cy, r, colour):
    """A crenellated wall between two taller towers with pointed roofs, an arched gate and slit windows."""
    dark = _darker(colour, 0.7)
    _box(d, cx, cy, r, -0.65, -0.3, 0.65, 0.9, colour)
    for k in range(4):
        u = -0.6 + k * 0.36
        _box(d, cx, cy, r, u, -0.45, u + 0.2, -0.3, colour)
    for s in (-1, 1):
        _box(d, cx, cy, r, s * 0.65 - 0.3, -0.6, s * 0.65 + 0.3, 0.9, colour, outline=dark)
        d.polygon(_points(cx, cy, r, [(s * 0.65 - 0.36, -0.6), (s * 0.65 + 0.36, -0.6), (s * 0.65, -1.05)]),
                  fill=(60, 80, 160) if rng.random() < 0.5 else (170, 60, 60))
        _box(d, cx, cy, r, s * 0.65 - 0.05, -0.35, s * 0.65 + 0.05, -0.1, (40, 40, 50))
    d.chord([cx - r * 0.25, cy + r * 0.3, cx + r * 0.25, cy + r * 0.8], 180, 360, fill=DOOR)
    _box(d, cx, cy, r, -0.25, 0.55, 0.25, 0.9, DOOR)


def draw_lighthouse(d, rng, cx, cy, r, colour):
    """A tapering tower with red and white stripes, a lit lamp room, a dark cap and a gallery."""
    n = 4
    for k in range(n):
        v0, v1 = -0.45 + k * 1.35 / n, -0.45 + (k + 1) * 1.35 / n
        w0, w1 = 0.22 + 0.2 * (v0 + 0.45) / 1.35, 0.22 + 0.2 * (v1 + 0.45) / 1.35
        d.polygon(_points(cx, cy, r, [(-w0, v0), (w0, v0), (w1, v1), (-w1, v1)]),
                  fill=(210, 40, 40) if k % 2 == 0 else (245, 245, 245))
    _box(d, cx, cy, r, -0.32, -0.52, 0.32, -0.45, (40, 40, 45))  # gallery
    _box(d, cx, cy, r, -0.18, -0.8, 0.18, -0.52, (255, 230, 110))  # lamp
    d.polygon(_points(cx, cy, r, [(-0.26, -0.8), (0.26, -0.8), (0.0, -1.02)]), fill=(40, 40, 45))
    for s in (-1, 1):  # beams
        d.polygon(_points(cx, cy, r, [(s * 0.18, -0.72), (s * 0.9, -0.9), (s * 0.9, -0.55)]),
                  fill=_lighter((255, 230, 110), 0.5))
    _box(d, cx, cy, r, -0.08, 0.65, 0.08, 0.9, DOOR)


def draw_barn(d, rng, cx, cy, r, colour):
    """A gambrel-roofed barn with white trim, big crossed doors and a hay loft window."""
    trim = (245, 245, 240)
    d.polygon(_points(cx, cy, r, [(-0.85, 0.9), (-0.85, -0.2), (-0.6, -0.7), (0.0, -0.95), (0.6, -0.7),
                                  (0.85, -0.2), (0.85, 0.9)]), fill=colour, outline=trim)
    d.polygon(_points(cx, cy, r, [(-0.95, -0.15), (-0.65, -0.78), (0.0, -1.05), (0.65, -0.78), (0.95, -0.15),
                                  (0.85, -0.2), (0.6, -0.7), (0.0, -0.95), (-0.6, -0.7), (-0.85, -0.2)]),
              fill=(70, 70, 75))
    _box(d, cx, cy, r, -0.4, 0.2, 0.4, 0.9, colour, outline=trim)
    for a, b in (((-0.4, 0.2), (0.4, 0.9)), ((0.4, 0.2), (-0.4, 0.9))):
        d.line(_points(cx, cy, r, [a, b]), fill=trim, width=_width(r, 0.06))
    _box(d, cx, cy, r, -0.18, -0.45, 0.18, -0.15, (60, 40, 25), outline=trim)


def draw_skyscraper(d, rng, cx, cy, r, colour):
    """A tall tower (sometimes two) with a grid of windows and an antenna."""
    towers = [(-0.12, 0.38, -1.0)] if rng.random() < 0.5 else [(-0.45, 0.28, -0.7), (0.15, 0.3, -1.0)]
    for u, half, top in towers:
        _box(d, cx, cy, r, u - half, top, u + half, 1.0, colour, outline=_darker(colour, 0.6))
        rows, cols = int((1.0 - top) / 0.16), 3
        for i in range(rows):
            for j in range(cols):
                x0 = u - half + 0.08 + j * (2 * half - 0.1) / cols
                v = top + 0.07 + i * 0.16
                lit = rng.random() < 0.8
                _box(d, cx, cy, r, x0, v, x0 + (2 * half - 0.1) / cols - 0.07, v + 0.08,
                     GLASS if lit else _darker(colour, 0.5))
    u, _, top = towers[-1]
    d.line(_points(cx, cy, r, [(u, top), (u, top - 0.15)]), fill=(60, 60, 60), width=1)


def draw_tent(d, rng, cx, cy, r, colour):
    """A triangular tent with an open dark doorway, a ridge pole and guy lines."""
    dark = _darker(colour, 0.65)
    d.polygon(_points(cx, cy, r, [(-1.0, 0.7), (0.0, -0.8), (1.0, 0.7)]), fill=colour)
    d.polygon(_points(cx, cy, r, [(-0.35, 0.7), (0.0, -0.2), (0.35, 0.7)]), fill=(40, 35, 30))
    d.polygon(_points(cx, cy, r, [(0.0, -0.8), (0.0, -0.2), (-0.35, 0.7), (-0.5, 0.7)]), fill=dark)
    d.line(_points(cx, cy, r, [(0.0, -0.8), (0.0, -1.0)]), fill=(90, 60, 30), width=_width(r, 0.06))
    for s in (-1, 1):
        d.line(_points(cx, cy, r, [(s * 0.5, -0.05), (s * 1.05, 0.7)]), fill=(120, 120, 120), width=1)


def draw_bridge(d, rng, cx, cy, r, colour):
    """An arched stone bridge with a railing, over a strip of water."""
    d.rectangle([cx - r * 1.05, cy + r * 0.4, cx + r * 1.05, cy + r * 0.8], fill=(60, 120, 200))
    d.rectangle([cx - r * 1.05, cy - r * 0.3, cx + r * 1.05, cy + r * 0.6], fill=colour)
    for u in (-0.55, 0.55):
        d.chord([cx + (u - 0.4) * r, cy - r * 0.05, cx + (u + 0.4) * r, cy + r * 1.1], 180, 360, fill=(60, 120, 200))
    d.rectangle([cx - r * 1.05, cy - r * 0.42, cx + r * 1.05, cy - r * 0.3], fill=_darker(colour, 0.7))
    for k in range(7):
        x = cx - r * 0.9 + k * r * 0.3
        d.line([(x, cy - r * 0.42), (x, cy - r * 0.65)], fill=_darker(colour, 0.7), width=1)
    d.line([(cx - r * 1.05, cy - r * 0.65), (cx + r * 1.05, cy - r * 0.65)], fill=_darker(colour, 0.7), width=1)


def draw_windmill(d, rng, cx, cy, r, colour):
    """A tapering tower with a door and a cap, and four lattice sails turned at a random angle."""
    d.polygon(_points(cx, cy, r, [(-0.35, 1.0), (-0.2, -0.35), (0.2, -0.35), (0.35, 1.0)]), fill=colour)
    d.polygon(_points(cx, cy, r, [(-0.25, -0.35), (0.0, -0.6), (0.25, -0.35)]), fill=_darker(colour, 0.6))
    _box(d, cx, cy, r, -0.1, 0.65, 0.1, 1.0, DOOR)
    hub = (cx, cy - r * 0.4)
    turn = rng.uniform(0, math.pi / 2)
    for k in range(4):
        a = turn + k * math.pi / 2
        c, s = math.cos(a), math.sin(a)
        tip = (hub[0] + r * 0.95 * c, hub[1] + r * 0.95 * s)
        side = (-s * r * 0.16, c * r * 0.16)
        d.polygon([(hub[0] + 0.25 * (tip[0] - hub[0]), hub[1] + 0.25 * (tip[1] - hub[1])), tip,
                   (tip[0] + side[0], tip[1] + side[1]),
                   (hub[0] + 0.25 * (tip[0] - hub[0]) + side[0], hub[1] + 0.25 * (tip[1] - hub[1]) + side[1])],
                  fill=(240, 235, 220), outline=(90, 70, 50))
        d.line([hub, tip], fill=(90, 70, 50), width=_width(r, 0.06))
    _oval(d, hub[0], hub[1], r * 0.07, r * 0.07, fill=(60, 50, 40))


__all__ = ["draw_castle", "draw_lighthouse", "draw_barn", "draw_skyscraper", "draw_tent", "draw_bridge",
           "draw_windmill"]
