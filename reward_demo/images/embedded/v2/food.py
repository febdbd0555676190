"""v2 drawings: food (fruit, vegetables, dishes and sweets).

Every function is ``draw(d, rng, cx, cy, r, colour)``: (cx, cy) the centre, r the half-extent in pixels. Those
whose concept names no colour in captions (``named_colour=False``) keep their own colours.
"""
from __future__ import annotations

import math

from ..pen import _darker, _lighter, _oval, _points, _ubox, _width

STEM, LEAF = (100, 65, 30), (50, 150, 50)
CREAM, TAN = (245, 230, 190), (215, 165, 95)


def draw_apple(d, rng, cx, cy, r, colour):
    """Two overlapping lobes with a dip on top, a stem, a leaf and a highlight."""
    for s in (-1, 1):
        _oval(d, cx + s * r * 0.28, cy + r * 0.05, r * 0.62, r * 0.75, fill=colour)
    d.line([(cx, cy - r * 0.55), (cx + r * 0.1, cy - r * 0.95)], fill=STEM, width=_width(r, 0.1))
    d.polygon(_points(cx, cy, r, [(0.08, -0.8), (0.45, -1.0), (0.6, -0.8), (0.25, -0.68)]), fill=LEAF)
    _oval(d, cx - r * 0.4, cy - r * 0.2, r * 0.12, r * 0.2, fill=_lighter(colour, 0.5))


def draw_banana(d, rng, cx, cy, r, colour):
    """A curved crescent with brown tips."""
    angle = rng.uniform(-0.5, 0.5)
    outer = [(math.cos(a) * 0.95, math.sin(a) * 0.85 - 0.35) for a in [0.25 + i * 0.13 for i in range(21)]]
    inner = [(math.cos(a) * 0.78, math.sin(a) * 0.35 - 0.2) for a in [2.85 - i * 0.13 for i in range(20)]]
    d.polygon(_points(cx, cy, r, outer + inner, angle=angle), fill=colour, outline=_darker(colour, 0.7))
    for u, v in (outer[0], outer[-1]):
        x, y = _points(cx, cy, r, [(u, v)], angle=angle)[0]
        _oval(d, x, y, r * 0.08, r * 0.08, fill=(90, 60, 25))


def draw_strawberry(d, rng, cx, cy, r, colour):
    """A rounded cone, point down, with yellow seeds and a green leafy crown."""
    d.polygon([(cx - r * 0.8, cy - r * 0.45), (cx + r * 0.8, cy - r * 0.45), (cx + r * 0.55, cy + r * 0.3),
               (cx, cy + r * 0.95), (cx - r * 0.55, cy + r * 0.3)], fill=colour)
    _oval(d, cx, cy - r * 0.35, r * 0.8, r * 0.35, fill=colour)
    for u, v in ((-0.4, -0.2), (0.0, -0.15), (0.4, -0.2), (-0.25, 0.2), (0.25, 0.2), (0.0, 0.5), (-0.5, 0.05),
                 (0.5, 0.05)):
        _oval(d, cx + u * r, cy + v * r, max(1, r * 0.05), max(1, r * 0.07), fill=(250, 225, 90))
    for a in (-0.6, -0.2, 0.2, 0.6):
        d.polygon(_points(cx, cy, r, [(-0.12, -0.6), (0.12, -0.6), (0.0, -0.95)], angle=a), fill=LEAF)


def draw_cherries(d, rng, cx, cy, r, colour):
    """Two round cherries on stems that meet at the top, with a leaf."""
    top = (cx + r * 0.1, cy - r * 0.9)
    for u in (-0.45, 0.45):
        d.line([(cx + u * r, cy + r * 0.2), top], fill=(80, 120, 40), width=_width(r, 0.08))
    for u in (-0.45, 0.45):
        _oval(d, cx + u * r, cy + r * 0.4, r * 0.42, r * 0.42, fill=colour)
        _oval(d, cx + (u - 0.15) * r, cy + r * 0.28, r * 0.08, r * 0.1, fill=_lighter(colour, 0.6))
    d.polygon([top, (cx + r * 0.6, cy - r * 0.95), (cx + r * 0.75, cy - r * 0.7), (cx + r * 0.3, cy - r * 0.75)],
              fill=LEAF)


def draw_lemon(d, rng, cx, cy, r, colour):
    """An oval fruit with pointed nubs at both ends, a dimpled skin and a highlight, lying at an angle."""
    angle = rng.uniform(-0.6, 0.6)
    outline = [(0.85 * math.cos(t) + (0.15 * math.cos(t) ** 9), 0.62 * math.sin(t)) for t in
               [k * 2 * math.pi / 28 for k in range(28)]]
    d.polygon(_points(cx, cy, r, outline, angle=angle), fill=colour, outline=_darker(colour, 0.8))
    dimple = _darker(colour, 0.85)
    for _ in range(8):
        x, y = _points(cx, cy, r, [(rng.uniform(-0.6, 0.6), rng.uniform(-0.4, 0.4))], angle=angle)[0]
        d.point((x, y), fill=dimple)
    x, y = _points(cx, cy, r, [(-0.25, -0.28)], angle=angle)[0]
    _oval(d, x, y, r * 0.22, r * 0.1, fill=_lighter(colour, 0.5))
    d.polygon(_points(cx, cy, r, [(0.55, -0.5), (0.9, -0.85), (1.0, -0.6), (0.7, -0.45)], angle=angle), fill=LEAF)


def draw_grapes(d, rng, cx, cy, r, colour):
    """A bunch of round grapes narrowing downwards, a stem and a leaf."""
    rows = ((-0.45, 4), (-0.1, 3), (0.25, 2), (0.58, 1))
    for v, n in rows:
        for k in range(n):
            u = (k - (n - 1) / 2) * 0.42
            _oval(d, cx + u * r, cy + v * r, r * 0.24, r * 0.24, fill=colour, outline=_darker(colour, 0.7))
            _oval(d, cx + (u - 0.08) * r, cy + (v - 0.08) * r, max(1, r * 0.05), max(1, r * 0.05),
                  fill=_lighter(colour, 0.6))
    d.line([(cx, cy - r * 0.7), (cx + r * 0.1, cy - r * 1.0)], fill=STEM, width=_width(r, 0.09))
    d.polygon(_points(cx, cy, r, [(0.05, -0.8), (0.5, -1.0), (0.65, -0.72), (0.3, -0.65)]), fill=LEAF)


def draw_watermelon(d, rng, cx, cy, r, colour):
    """A half-round slice: green rind, pale band, red flesh with black seeds."""
    angle = rng.uniform(-25, 25)
    box = [cx - r, cy - r * 0.7, cx + r, cy + r * 1.3]
    d.pieslice(box, 0 + angle, 180 + angle, fill=(40, 130, 50))
    inner = [cx - r * 0.88, cy - r * 0.58, cx + r * 0.88, cy + r * 1.18]
    d.pieslice(inner, 0 + angle, 180 + angle, fill=(215, 235, 170))
    flesh = [cx - r * 0.8, cy - r * 0.5, cx + r * 0.8, cy + r * 1.1]
    d.pieslice(flesh, 0 + angle, 180 + angle, fill=(230, 60, 70))
    for k in range(5):
        a = math.radians(angle + 30 + k * 30)
        x, y = cx + r * 0.5 * math.cos(a), cy + r * 0.3 + r * 0.5 * math.sin(a)
        _oval(d, x, y, max(1, r * 0.05), max(1, r * 0.08), fill=(25, 25, 25))


def draw_carrot(d, rng, cx, cy, r, colour):
    """A long tapering root with ridges and a green leafy top, at an angle."""
    angle = rng.uniform(-0.7, 0.7)
    d.polygon(_points(cx, cy, r, [(-0.3, -0.5), (0.3, -0.5), (0.05, 1.0), (-0.05, 1.0)], angle=angle), fill=colour)
    for v in (-0.2, 0.15, 0.5):
        d.line(_points(cx, cy, r, [(-0.2, v), (0.0, v + 0.05)], angle=angle), fill=_darker(colour, 0.7), width=1)
    for a in (-0.35, 0.0, 0.35):
        d.polygon(_points(cx, cy, r, [(-0.08, -0.5), (0.08, -0.5), (a * 1.2, -1.05)], angle=angle), fill=LEAF)


def draw_pizza(d, rng, cx, cy, r, colour):
    """A whole round pizza: a crust, cheese, red pepperoni slices and slice lines."""
    _oval(d, cx, cy, r, r, fill=(200, 140, 70))
    _oval(d, cx, cy, r * 0.85, r * 0.85, fill=(250, 205, 90))
    for k in range(3):
        a = k * math.pi / 3 + rng.uniform(-0.1, 0.1)
        d.line([(cx - r * 0.85 * math.cos(a), cy - r * 0.85 * math.sin(a)),
                (cx + r * 0.85 * math.cos(a), cy + r * 0.85 * math.sin(a))], fill=(215, 160, 70), width=1)
    for _ in range(6):
        a, dist = rng.uniform(0, 2 * math.pi), r * rng.uniform(0.2, 0.6)
        _oval(d, cx + dist * math.cos(a), cy + dist * math.sin(a), r * 0.14, r * 0.14, fill=(190, 40, 35))
    for _ in range(4):
        a, dist = rng.uniform(0, 2 * math.pi), r * rng.uniform(0.1, 0.65)
        _oval(d, cx + dist * math.cos(a), cy + dist * math.sin(a), r * 0.06, r * 0.06, fill=(60, 130, 50))


def draw_cake(d, rng, cx, cy, r, colour):
    """A two-layer round cake: sponge, cream filling, coloured icing with drips, candles and a cherry."""
    sponge = (230, 190, 130)
    d.rectangle([cx - r * 0.85, cy - r * 0.2, cx + r * 0.85, cy + r * 0.75], fill=sponge)
    _oval(d, cx, cy + r * 0.75, r * 0.85, r * 0.2, fill=sponge)
    d.rectangle([cx - r * 0.85, cy + r * 0.22, cx + r * 0.85, cy + r * 0.32], fill=CREAM)
    _oval(d, cx, cy - r * 0.2, r * 0.85, r * 0.22, fill=colour)
    for u in (-0.7, -0.35, 0.0, 0.35, 0.7):
        d.rectangle([cx + (u - 0.09) * r, cy - r * 0.2, cx + (u + 0.09) * r, cy + r * rng.uniform(0.0, 0.15)],
                    fill=colour)
    for u in (-0.4, 0.4):
        d.rectangle([cx + (u - 0.05) * r, cy - r * 0.7, cx + (u + 0.05) * r, cy - r * 0.3], fill=(250, 250, 250))
        _oval(d, cx + u * r, cy - r * 0.78, r * 0.05, r * 0.08, fill=(255, 215, 80))
    _oval(d, cx, cy - r * 0.42, r * 0.13, r * 0.13, fill=(200, 30, 50))


def draw_ice_cream(d, rng, cx, cy, r, colour):
    """A waffle cone with a criss-cross pattern under one or two round scoops."""
    cone = [(cx - r * 0.45, cy - r * 0.05), (cx + r * 0.45, cy - r * 0.05), (cx, cy + r * 1.0)]
    d.polygon(cone, fill=TAN)
    for k in (0.15, 0.45, 0.75):  # a criss-cross from the rim to the far side of the cone
        d.line([(cx - r * 0.45 + k * r, cy), (cx + r * 0.45 * (1 - k / 0.9), cy + r * k / 0.9)],
               fill=_darker(TAN, 0.75), width=1)
        d.line([(cx + r * 0.45 - k * r, cy), (cx - r * 0.45 * (1 - k / 0.9), cy + r * k / 0.9)],
               fill=_darker(TAN, 0.75), width=1)
    scoops = 1 if rng.random() < 0.5 else 2
    for k in range(scoops):
        v = -0.3 - 0.5 * k
        _oval(d, cx, cy + v * r, r * 0.5, r * 0.42, fill=colour if k == 0 else _lighter(colour, 0.5))
    _oval(d, cx - r * 0.15, cy - r * (0.45 + 0.5 * (scoops - 1)), r * 0.1, r * 0.08, fill=_lighter(colour, 0.7))


def draw_donut(d, rng, cx, cy, r, colour):
    """A ring of dough (the background shows through the hole) with coloured icing and sprinkles."""
    _oval(d, cx, cy, r * 0.95, r * 0.8, outline=(205, 150, 80), width=_width(r, 0.62))
    _oval(d, cx, cy - r * 0.04, r * 0.82, r * 0.66, outline=colour, width=_width(r, 0.42))
    for _ in range(10):
        a, dist = rng.uniform(0, 2 * math.pi), rng.uniform(0.5, 0.68)
        x, y = cx + r * dist * math.cos(a), cy - r * 0.04 + r * dist * 0.8 * math.sin(a)
        fill = [(250, 250, 250), (80, 170, 230), (250, 220, 60), (120, 200, 90)][int(rng.integers(4))]
        d.line([(x, y), (x + r * 0.1, y + r * 0.05)], fill=fill, width=1)


def draw_burger(d, rng, cx, cy, r, colour):
    """A bun with sesame seeds, lettuce, cheese, a patty and the bottom bun."""
    bun = (220, 150, 70)
    d.rounded_rectangle([cx - r * 0.9, cy + r * 0.4, cx + r * 0.9, cy + r * 0.75], radius=r * 0.15, fill=bun)
    d.rounded_rectangle([cx - r * 0.95, cy + r * 0.1, cx + r * 0.95, cy + r * 0.42], radius=r * 0.15,
                        fill=(110, 60, 30))
    d.polygon([(cx - r * 0.95, cy + r * 0.1), (cx + r * 0.95, cy + r * 0.1), (cx + r * 0.7, cy + r * 0.3),
               (cx, cy + r * 0.1), (cx - r * 0.6, cy + r * 0.32)], fill=(250, 200, 50))
    d.polygon([(cx - r, cy), (cx - r * 0.7, cy + r * 0.15), (cx - r * 0.35, cy), (cx, cy + r * 0.15),
               (cx + r * 0.35, cy), (cx + r * 0.7, cy + r * 0.15), (cx + r, cy), (cx + r, cy - r * 0.08),
               (cx - r, cy - r * 0.08)], fill=(90, 180, 60))
    d.chord(_ubox(cx, cy, r, -0.9, -0.85, 0.9, 0.3), 180, 360, fill=bun)
    for u, v in ((-0.45, -0.45), (0.0, -0.6), (0.4, -0.42), (-0.15, -0.3), (0.25, -0.2)):
        _oval(d, cx + u * r, cy + v * r, max(1, r * 0.06), max(1, r * 0.04), fill=(250, 240, 210))


__all__ = ["draw_apple", "draw_banana", "draw_strawberry", "draw_cherries", "draw_lemon", "draw_grapes",
           "draw_watermelon", "draw_carrot", "draw_pizza", "draw_cake", "draw_ice_cream", "draw_donut", "draw_burger"]
