"""v2 drawings: plants and weather (the tree and the flower keep v1's drawings).

Every function is ``draw(d, rng, cx, cy, r, colour)``: (cx, cy) the centre, r the half-extent in pixels.
"""
from __future__ import annotations

import math

from ..pen import _box, _darker, _lighter, _oval, _points, _regular, _rotate, _width

TRUNK = (115, 75, 35)


# ---------------------------------------------------------------- plants

def draw_cactus(d, rng, cx, cy, r, colour):
    """A ribbed column with two raised arms and spines, in a clay pot."""
    w = r * 0.22
    d.rounded_rectangle([cx - w, cy - r * 0.85, cx + w, cy + r * 0.55], radius=w, fill=colour)
    for s, v in ((-1, -0.05), (1, -0.35)):  # an arm: out sideways, then up
        x = cx + s * r * 0.5
        d.rounded_rectangle([min(cx, x), cy + v * r, max(cx, x), cy + (v + 0.28) * r], radius=w * 0.6, fill=colour)
        d.rounded_rectangle([x - w * 0.7, cy + (v - 0.4) * r, x + w * 0.7, cy + (v + 0.28) * r], radius=w * 0.7,
                            fill=colour)
    d.line([(cx, cy - r * 0.7), (cx, cy + r * 0.5)], fill=_darker(colour, 0.7), width=1)
    for _ in range(8):
        x, y = cx + rng.uniform(-0.6, 0.6) * r, cy + rng.uniform(-0.8, 0.4) * r
        d.point((x, y), fill=(245, 240, 200))
    d.polygon(_points(cx, cy, r, [(-0.45, 0.5), (0.45, 0.5), (0.35, 1.0), (-0.35, 1.0)]), fill=(190, 100, 60))
    _box(d, cx, cy, r, -0.5, 0.45, 0.5, 0.6, (170, 85, 50))


def draw_mushroom(d, rng, cx, cy, r, colour):
    """A domed cap with pale spots on a thick pale stem, a little grass at its foot."""
    stem = (240, 230, 205)
    d.rounded_rectangle([cx - r * 0.25, cy - r * 0.1, cx + r * 0.25, cy + r * 0.9], radius=r * 0.12, fill=stem)
    d.chord([cx - r * 0.95, cy - r * 0.85, cx + r * 0.95, cy + r * 0.45], 180, 360, fill=colour)
    for u, v, s in ((-0.5, -0.3, 0.12), (0.0, -0.6, 0.14), (0.5, -0.3, 0.12), (-0.2, -0.3, 0.08), (0.25, -0.5, 0.07)):
        _oval(d, cx + u * r, cy + v * r, r * s, r * s * 0.85, fill=_lighter(colour, 0.85))
    for u in (-0.45, -0.35, 0.35, 0.45):
        d.line([(cx + u * r, cy + r * 0.9), (cx + (u + rng.uniform(-0.1, 0.1)) * r, cy + r * 0.7)],
               fill=(60, 150, 60), width=1)


def draw_palm(d, rng, cx, cy, r, colour):
    """A curved segmented trunk, a crown of drooping fronds and coconuts."""
    lean = rng.uniform(0.2, 0.45) * (1 if rng.random() < 0.5 else -1)
    top = (cx + lean * r, cy - r * 0.55)
    pts = [(cx + lean * r * (t ** 2), cy + r * 1.0 - t * r * 1.55) for t in [i / 6 for i in range(7)]]
    d.line(pts, fill=TRUNK, width=_width(r, 0.16))
    for x, y in pts[1:-1]:
        d.line([(x - r * 0.08, y), (x + r * 0.08, y)], fill=_darker(TRUNK, 0.7), width=1)
    for k in range(7):  # fronds: leaf-shaped, spreading and drooping at the ends
        a = math.pi * (1.05 + 0.9 * k / 6)
        c, sn = math.cos(a), math.sin(a)
        end = (top[0] + r * 0.9 * c, top[1] + r * 0.5 * sn + r * 0.45 * abs(c))
        mid = (top[0] + r * 0.5 * c, top[1] + r * 0.5 * sn)
        nx, ny = -sn * r * 0.13, c * r * 0.13
        d.polygon([top, (mid[0] + nx, mid[1] + ny), end, (mid[0] - nx, mid[1] - ny)], fill=colour)
    for u in (-0.08, 0.08):
        _oval(d, top[0] + u * r, top[1] + r * 0.1, r * 0.08, r * 0.08, fill=(95, 60, 25))


def draw_leaf(d, rng, cx, cy, r, colour):
    """A pointed oval leaf with a midrib, side veins and a short stalk, at a random angle."""
    angle = rng.uniform(-1.2, 1.2)
    outline = [(math.sin(t) * 0.5 * (1 - 0.3 * math.cos(t)), -math.cos(t) * 0.85) for t in
               [i * 2 * math.pi / 24 for i in range(24)]]
    d.polygon(_points(cx, cy, r, outline, angle=angle), fill=colour)
    vein = _darker(colour, 0.65)
    d.line(_points(cx, cy, r, [(0.0, -0.8), (0.0, 1.05)], angle=angle), fill=vein, width=_width(r, 0.06))
    for v in (-0.4, -0.05, 0.3):
        for s in (-1, 1):
            d.line(_points(cx, cy, r, [(0.0, v + 0.15), (s * 0.3, v - 0.1)], angle=angle), fill=vein, width=1)


# ---------------------------------------------------------------- weather

def draw_sun(d, rng, cx, cy, r, colour):
    """A disc with a ring of triangular rays."""
    n, phase = int(rng.integers(8, 13)), rng.uniform(0, math.pi)
    for k in range(n):
        a = phase + 2 * math.pi * k / n
        d.polygon([(cx + r * 0.55 * math.cos(a - 0.2), cy + r * 0.55 * math.sin(a - 0.2)),
                   (cx + r * 1.0 * math.cos(a), cy + r * 1.0 * math.sin(a)),
                   (cx + r * 0.55 * math.cos(a + 0.2), cy + r * 0.55 * math.sin(a + 0.2))], fill=colour)
    _oval(d, cx, cy, r * 0.58, r * 0.58, fill=colour)
    _oval(d, cx - r * 0.15, cy - r * 0.15, r * 0.3, r * 0.3, fill=_lighter(colour, 0.35))


def _cloud(d, cx, cy, r, fill):
    for u, v, s in ((-0.55, 0.1, 0.35), (-0.15, -0.2, 0.45), (0.3, -0.1, 0.38), (0.6, 0.12, 0.3)):
        _oval(d, cx + u * r, cy + v * r, r * s, r * s, fill=fill)
    d.rounded_rectangle([cx - r * 0.85, cy, cx + r * 0.88, cy + r * 0.42], radius=r * 0.2, fill=fill)


def draw_cloud(d, rng, cx, cy, r, colour):
    """A puffy cloud: overlapping round puffs on a flat base, a little shade underneath."""
    _cloud(d, cx, cy + r * 0.05, r, _darker(colour, 0.85))
    _cloud(d, cx, cy - r * 0.02, r * 0.97, colour)


def draw_rain(d, rng, cx, cy, r, colour):
    """A grey rain cloud with slanted blue streaks and drops falling from it."""
    _cloud(d, cx, cy - r * 0.4, r * 0.95, (120, 125, 135))
    slant = rng.uniform(-0.25, 0.25)
    for k in range(6):
        u = -0.65 + k * 0.26
        v = 0.2 + 0.25 * (k % 2)
        d.line([(cx + u * r, cy + v * r), (cx + (u + slant) * r, cy + (v + 0.35) * r)], fill=(60, 110, 220),
               width=_width(r, 0.07))
        _oval(d, cx + (u + slant * 1.5) * r, cy + (v + 0.6) * r, max(1, r * 0.05), max(1, r * 0.07),
              fill=(60, 110, 220))


def draw_snowflake(d, rng, cx, cy, r, colour):
    """Six arms with side branches and a small hexagon in the middle."""
    phase = rng.uniform(0, math.pi / 3)
    w = _width(r, 0.09)
    for k in range(6):
        a = phase + k * math.pi / 3
        d.line([(cx, cy), (cx + r * math.cos(a), cy + r * math.sin(a))], fill=colour, width=w)
        for t in (0.45, 0.7):
            bx, by = cx + r * t * math.cos(a), cy + r * t * math.sin(a)
            for s in (-1, 1):
                d.line([(bx, by), (bx + r * 0.25 * math.cos(a + s * 0.8), by + r * 0.25 * math.sin(a + s * 0.8))],
                       fill=colour, width=max(1, w - 1))
    d.polygon(_regular(cx, cy, r * 0.18, 6, phase), fill=colour)


def draw_lightning(d, rng, cx, cy, r, colour):
    """A zigzag lightning bolt with a darker edge, slightly tilted."""
    bolt = [(0.1, -1.0), (0.55, -1.0), (0.15, -0.2), (0.5, -0.2), (-0.35, 1.0), (-0.05, 0.1), (-0.4, 0.1)]
    pts = _rotate(_points(cx, cy, r, bolt), cx, cy, rng.uniform(-0.3, 0.3))
    d.polygon(pts, fill=colour, outline=_darker(colour, 0.7))


def draw_rainbow(d, rng, cx, cy, r, colour):
    """Seven concentric arcs, red outside to violet inside, with a little cloud at each foot."""
    bands = [(220, 50, 50), (245, 140, 40), (245, 220, 60), (70, 180, 70), (60, 130, 220), (80, 70, 180),
             (150, 80, 190)]
    w = max(1, r * 0.11)
    for k, fill in enumerate(bands):
        rad = r * 1.0 - k * w
        d.arc([cx - rad, cy - rad + r * 0.45, cx + rad, cy + rad + r * 0.45], 180, 360, fill=fill,
              width=max(1, int(round(w))))
    for s in (-1, 1):
        for u, v, size in ((0.0, 0.0, 0.2), (-0.15, 0.08, 0.14), (0.15, 0.08, 0.14)):
            _oval(d, cx + (s * 0.78 + u) * r, cy + (0.45 + v) * r, r * size, r * size, fill=(250, 250, 250))


__all__ = ["draw_cactus", "draw_mushroom", "draw_palm", "draw_leaf", "draw_sun", "draw_cloud", "draw_rain",
           "draw_snowflake", "draw_lightning", "draw_rainbow"]
