"""v2 drawings: everyday objects and tools.

Every function is ``draw(d, rng, cx, cy, r, colour)``: (cx, cy) the centre, r the half-extent in pixels.
"""
from __future__ import annotations

import math

from ..pen import _box, _darker, _lighter, _oval, _points, _width

WOOD, STEEL, DARK = (150, 100, 50), (150, 155, 165), (45, 45, 50)


def _angle(rng, spread=0.5):
    return rng.uniform(-spread, spread)


# ---------------------------------------------------------------- a shape

def draw_heart(d, rng, cx, cy, r, colour):
    """Two round lobes over a point, slightly tilted."""
    angle = _angle(rng, 0.3)
    outline = [(0.95 * math.sin(t) ** 3, -(0.8 * math.cos(t) - 0.3 * math.cos(2 * t) - 0.12 * math.cos(3 * t)
                                           - 0.05 * math.cos(4 * t)) - 0.05) for t in
               [k * 2 * math.pi / 40 for k in range(40)]]
    d.polygon(_points(cx, cy, r, outline, angle=angle), fill=colour)


# ---------------------------------------------------------------- objects

def draw_umbrella(d, rng, cx, cy, r, colour):
    """An open canopy with a scalloped edge and ribs, a shaft and a J-shaped handle."""
    angle = _angle(rng, 0.35)
    d.line(_points(cx, cy, r, [(0.0, -0.95), (0.0, 0.75)], angle=angle), fill=DARK, width=_width(r, 0.07))
    hook = [(0.0, 0.75), (0.02, 0.88), (-0.1, 0.97), (-0.22, 0.92), (-0.25, 0.8)]
    d.line(_points(cx, cy, r, hook, angle=angle), fill=DARK, width=_width(r, 0.07))
    canopy = [(math.cos(t), -0.15 - 0.75 * math.sin(t)) for t in [i * math.pi / 16 for i in range(17)]]
    scallops = [(-1.0 + k * 0.25, -0.15 if k % 2 == 0 else -0.3) for k in range(9)]  # four bites, left to right
    d.polygon(_points(cx, cy, r, canopy + scallops, angle=angle), fill=colour)
    for u in (-0.5, 0.0, 0.5):
        d.line(_points(cx, cy, r, [(0.0, -0.9), (u, -0.22)], angle=angle), fill=_darker(colour, 0.7), width=1)


def draw_key(d, rng, cx, cy, r, colour):
    """A round bow with a hole, a long shaft and teeth, at a random angle."""
    angle = _angle(rng, math.pi)
    x, y = _points(cx, cy, r, [(-0.6, 0.0)], angle=angle)[0]
    _oval(d, x, y, r * 0.4, r * 0.4, fill=colour)
    _oval(d, x, y, r * 0.15, r * 0.15, fill=_lighter(colour, 0.8))
    d.polygon(_points(cx, cy, r, [(-0.25, -0.1), (1.0, -0.1), (1.0, 0.1), (-0.25, 0.1)], angle=angle), fill=colour)
    for u in (0.55, 0.85):
        d.polygon(_points(cx, cy, r, [(u - 0.08, 0.1), (u + 0.08, 0.1), (u + 0.08, 0.35), (u - 0.08, 0.35)],
                          angle=angle), fill=colour)


def draw_clock(d, rng, cx, cy, r, colour):
    """A wall clock: a coloured rim, a white face with twelve ticks, two hands and a centre pin."""
    _oval(d, cx, cy, r * 0.95, r * 0.95, fill=colour)
    _oval(d, cx, cy, r * 0.78, r * 0.78, fill=(250, 250, 245))
    for k in range(12):
        a = k * math.pi / 6
        inner = 0.55 if k % 3 == 0 else 0.65
        d.line([(cx + r * inner * math.cos(a), cy + r * inner * math.sin(a)),
                (cx + r * 0.72 * math.cos(a), cy + r * 0.72 * math.sin(a))], fill=DARK, width=1)
    hour, minute = rng.uniform(0, 2 * math.pi), rng.uniform(0, 2 * math.pi)
    d.line([(cx, cy), (cx + r * 0.35 * math.sin(hour), cy - r * 0.35 * math.cos(hour))], fill=DARK,
           width=_width(r, 0.09))
    d.line([(cx, cy), (cx + r * 0.6 * math.sin(minute), cy - r * 0.6 * math.cos(minute))], fill=DARK,
           width=_width(r, 0.05))
    _oval(d, cx, cy, r * 0.07, r * 0.07, fill=(200, 40, 40))


def draw_chair(d, rng, cx, cy, r, colour):
    """A chair seen three-quarters: a slatted back, a seat and four legs."""
    f = 1 if rng.random() < 0.5 else -1
    dark = _darker(colour, 0.7)
    for u, v in ((-0.5, 1.0), (0.55, 1.0), (-0.3, 0.8), (0.75, 0.8)):
        _box(d, cx, cy, r, u - 0.06, 0.1, u + 0.06, v, dark if v < 1 else colour, f)
    d.polygon(_points(cx, cy, r, [(-0.6, 0.0), (0.6, 0.0), (0.85, -0.15), (-0.35, -0.15)], f), fill=dark)
    _box(d, cx, cy, r, -0.6, 0.0, 0.6, 0.12, colour, f)
    for u in (-0.6, -0.42):
        _box(d, cx, cy, r, u, -1.0, u + 0.1, 0.05, colour, f)
    for v in (-0.95, -0.65, -0.35):
        d.polygon(_points(cx, cy, r, [(-0.6, v), (-0.32, v - 0.1), (-0.32, v), (-0.6, v + 0.12)], f), fill=colour)


def draw_cup(d, rng, cx, cy, r, colour):
    """A mug: a slightly tapered body with a rim, a round handle and a saucer."""
    f = 1 if rng.random() < 0.5 else -1
    _oval(d, cx + f * r * 0.55, cy + r * 0.05, r * 0.32, r * 0.3, outline=colour, width=_width(r, 0.13))
    d.polygon(_points(cx, cy, r, [(-0.6, -0.55), (0.6, -0.55), (0.5, 0.6), (-0.5, 0.6)], f), fill=colour)
    _oval(d, cx, cy - r * 0.55, r * 0.6, r * 0.12, fill=_darker(colour, 0.6))
    _oval(d, cx, cy - r * 0.55, r * 0.5, r * 0.08, fill=(90, 55, 30))  # coffee
    _oval(d, cx, cy + r * 0.68, r * 0.95, r * 0.14, fill=(240, 240, 240), outline=(190, 190, 195))


def draw_book(d, rng, cx, cy, r, colour):
    """A closed hardback standing a little tilted: cover, spine band, page edges and a title label."""
    angle = _angle(rng, 0.3)
    pages = [(-0.55, -0.8), (0.65, -0.8), (0.65, 0.9), (-0.55, 0.9)]
    d.polygon(_points(cx, cy, r, [(u + 0.08, v + 0.05) for u, v in pages], angle=angle), fill=(245, 240, 225))
    d.polygon(_points(cx, cy, r, [(-0.65, -0.9), (0.6, -0.9), (0.6, 0.85), (-0.65, 0.85)], angle=angle),
              fill=colour)
    d.polygon(_points(cx, cy, r, [(-0.65, -0.9), (-0.45, -0.9), (-0.45, 0.85), (-0.65, 0.85)], angle=angle),
              fill=_darker(colour, 0.65))
    d.polygon(_points(cx, cy, r, [(-0.2, -0.55), (0.4, -0.55), (0.4, -0.25), (-0.2, -0.25)], angle=angle),
              fill=_lighter(colour, 0.7))
    for v in (0.65, 0.8):
        d.line(_points(cx, cy, r, [(0.62, v), (0.72, v + 0.05)], angle=angle), fill=(200, 195, 180), width=1)


def draw_ball(d, rng, cx, cy, r, colour):
    """A beach ball: coloured and white segments meeting at a small cap, with a highlight."""
    _oval(d, cx, cy, r * 0.9, r * 0.9, fill=(250, 250, 250))
    turn = rng.uniform(0, 360)
    for k in range(3):
        d.pieslice([cx - r * 0.9, cy - r * 0.9, cx + r * 0.9, cy + r * 0.9], turn + k * 120, turn + k * 120 + 60,
                   fill=colour if k != 1 else _lighter(colour, 0.45) if sum(colour) > 450 else (250, 210, 60))
    _oval(d, cx, cy, r * 0.9, r * 0.9, outline=_darker(colour, 0.6), width=1)
    _oval(d, cx, cy, r * 0.12, r * 0.12, fill=(250, 250, 250))
    _oval(d, cx - r * 0.4, cy - r * 0.4, r * 0.15, r * 0.1, fill=(255, 255, 255))


def draw_guitar(d, rng, cx, cy, r, colour):
    """An acoustic guitar: a waisted body with a sound hole and bridge, a long neck, frets and a head."""
    angle = _angle(rng, 0.6)
    x, y = _points(cx, cy, r, [(0.0, 0.5)], angle=angle)[0]
    _oval(d, x, y, r * 0.5, r * 0.45, fill=colour)
    x2, y2 = _points(cx, cy, r, [(0.0, 0.0)], angle=angle)[0]
    _oval(d, x2, y2, r * 0.38, r * 0.33, fill=colour)
    _oval(d, x2 + (x - x2) * 0.3, y2 + (y - y2) * 0.3, r * 0.14, r * 0.14, fill=(40, 30, 25))
    d.polygon(_points(cx, cy, r, [(-0.07, -0.2), (0.07, -0.2), (0.07, -0.95), (-0.07, -0.95)], angle=angle),
              fill=(90, 55, 30))
    d.polygon(_points(cx, cy, r, [(-0.12, -0.95), (0.12, -0.95), (0.1, -1.15), (-0.1, -1.15)], angle=angle),
              fill=(60, 40, 25))
    d.polygon(_points(cx, cy, r, [(-0.18, 0.6), (0.18, 0.6), (0.18, 0.68), (-0.18, 0.68)], angle=angle), fill=DARK)
    d.line(_points(cx, cy, r, [(0.0, 0.64), (0.0, -1.0)], angle=angle), fill=(230, 230, 230), width=1)


def draw_balloon(d, rng, cx, cy, r, colour):
    """An oval party balloon with a highlight, a knot and a wavy string."""
    _oval(d, cx, cy - r * 0.3, r * 0.55, r * 0.68, fill=colour)
    _oval(d, cx - r * 0.2, cy - r * 0.55, r * 0.1, r * 0.18, fill=_lighter(colour, 0.6))
    d.polygon([(cx, cy + r * 0.35), (cx - r * 0.1, cy + r * 0.48), (cx + r * 0.1, cy + r * 0.48)],
              fill=_darker(colour, 0.8))
    phase = rng.uniform(0, math.pi)
    d.line([(cx + r * 0.1 * math.sin(phase + t * 6), cy + r * (0.48 + t * 0.52)) for t in [i / 8 for i in range(9)]],
           fill=(90, 90, 90), width=1)


def draw_kite(d, rng, cx, cy, r, colour):
    """A diamond kite with cross spars, two-colour panels and a tail with bows."""
    angle = _angle(rng, 0.5)
    top, right, bottom, left = (0.0, -1.0), (0.55, -0.35), (0.0, 0.45), (-0.55, -0.35)
    centre = (0.0, -0.35)
    other = _lighter(colour, 0.6)
    for a, b, fill in ((top, right, colour), (right, bottom, other), (bottom, left, colour), (left, top, other)):
        d.polygon(_points(cx, cy, r, [centre, a, b], angle=angle), fill=fill)
    for a, b in ((top, bottom), (left, right)):
        d.line(_points(cx, cy, r, [a, b], angle=angle), fill=(90, 60, 30), width=1)
    tail = [(0.0, 0.45), (0.15, 0.62), (-0.05, 0.8), (0.12, 1.0)]
    d.line(_points(cx, cy, r, tail, angle=angle), fill=(90, 90, 90), width=1)
    for u, v in tail[1:]:
        x, y = _points(cx, cy, r, [(u, v)], angle=angle)[0]
        d.polygon([(x - r * 0.1, y - r * 0.06), (x + r * 0.1, y + r * 0.06), (x + r * 0.1, y - r * 0.06),
                   (x - r * 0.1, y + r * 0.06)], fill=(240, 80, 80) if v < 0.9 else colour)


def draw_teddy_bear(d, rng, cx, cy, r, colour):
    """Sitting: a round head with round ears, a pale muzzle, button eyes, a body with paws."""
    pale = _lighter(colour, 0.5)
    for s in (-1, 1):
        _oval(d, cx + s * r * 0.5, cy + r * 0.75, r * 0.25, r * 0.2, fill=colour)  # feet
        _oval(d, cx + s * r * 0.5, cy + r * 0.77, r * 0.12, r * 0.1, fill=pale)
        _oval(d, cx + s * r * 0.58, cy + r * 0.25, r * 0.2, r * 0.22, fill=colour)  # arms
        _oval(d, cx + s * r * 0.42, cy - r * 0.85, r * 0.2, r * 0.2, fill=colour)  # ears
        _oval(d, cx + s * r * 0.42, cy - r * 0.85, r * 0.1, r * 0.1, fill=pale)
    _oval(d, cx, cy + r * 0.4, r * 0.5, r * 0.5, fill=colour)
    _oval(d, cx, cy + r * 0.45, r * 0.28, r * 0.3, fill=pale)
    _oval(d, cx, cy - r * 0.5, r * 0.5, r * 0.45, fill=colour)
    _oval(d, cx, cy - r * 0.35, r * 0.22, r * 0.17, fill=pale)
    _oval(d, cx, cy - r * 0.42, r * 0.07, r * 0.05, fill=DARK)
    for s in (-1, 1):
        _oval(d, cx + s * r * 0.2, cy - r * 0.6, r * 0.06, r * 0.06, fill=DARK)


# ---------------------------------------------------------------- tools

def draw_hammer(d, rng, cx, cy, r, colour):
    """A claw hammer: a wooden handle with a grip and a steel head with a striking face and a claw."""
    angle = _angle(rng, 0.7)
    d.polygon(_points(cx, cy, r, [(-0.08, -0.5), (0.08, -0.5), (0.1, 1.0), (-0.1, 1.0)], angle=angle), fill=WOOD)
    d.polygon(_points(cx, cy, r, [(-0.11, 0.55), (0.11, 0.55), (0.11, 1.0), (-0.11, 1.0)], angle=angle),
              fill=colour)
    head = [(-0.55, -0.85), (0.15, -0.85), (0.15, -0.5), (-0.55, -0.5)]
    d.polygon(_points(cx, cy, r, head, angle=angle), fill=STEEL, outline=_darker(STEEL, 0.6))
    claw = [(0.15, -0.85), (0.7, -1.0), (0.75, -0.85), (0.3, -0.65), (0.15, -0.5)]
    d.polygon(_points(cx, cy, r, claw, angle=angle), fill=STEEL, outline=_darker(STEEL, 0.6))


def draw_wrench(d, rng, cx, cy, r, colour):
    """An open-ended spanner: a flat steel shaft with a coloured grip and a two-pronged jaw at each end."""
    angle = _angle(rng, math.pi)
    d.polygon(_points(cx, cy, r, [(-0.7, -0.1), (0.7, -0.1), (0.7, 0.1), (-0.7, 0.1)], angle=angle), fill=STEEL)
    d.polygon(_points(cx, cy, r, [(-0.35, -0.13), (0.35, -0.13), (0.35, 0.13), (-0.35, 0.13)], angle=angle),
              fill=colour)
    for s, size in ((-1, 0.3), (1, 0.24)):
        base = s * 0.65
        d.polygon(_points(cx, cy, r, [(base, -size), (base + s * 0.12, -size), (base + s * 0.12, size), (base, size)],
                          angle=angle), fill=STEEL)
        for side in (-1, 1):  # the prongs, with the gap between them left open
            v0, v1 = side * size * 0.4, side * size
            d.polygon(_points(cx, cy, r, [(base + s * 0.1, v0), (base + s * 0.4, v0 + side * 0.04),
                                          (base + s * 0.4, v1), (base + s * 0.1, v1)], angle=angle), fill=STEEL)


def draw_shovel(d, rng, cx, cy, r, colour):
    """A garden spade: a long wooden shaft with a T-grip and a pointed steel blade."""
    angle = _angle(rng, 0.6)
    d.polygon(_points(cx, cy, r, [(-0.06, -0.85), (0.06, -0.85), (0.06, 0.3), (-0.06, 0.3)], angle=angle), fill=WOOD)
    d.polygon(_points(cx, cy, r, [(-0.25, -1.0), (0.25, -1.0), (0.25, -0.85), (-0.25, -0.85)], angle=angle),
              fill=colour)
    blade = [(-0.3, 0.25), (0.3, 0.25), (0.3, 0.75), (0.0, 1.0), (-0.3, 0.75)]
    d.polygon(_points(cx, cy, r, blade, angle=angle), fill=STEEL, outline=_darker(STEEL, 0.6))


__all__ = ["draw_heart", "draw_umbrella", "draw_key", "draw_clock", "draw_chair", "draw_cup", "draw_book", "draw_ball",
           "draw_guitar", "draw_balloon", "draw_kite", "draw_teddy_bear", "draw_hammer", "draw_wrench", "draw_shovel"]
