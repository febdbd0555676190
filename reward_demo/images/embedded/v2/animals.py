"""v2 drawings: animals, side views facing left or right (the cat keeps v1's face, the fish and bird v1's drawings).

Every function is ``draw(d, rng, cx, cy, r, colour)``: (cx, cy) the centre, r the half-extent in pixels.
"""
from __future__ import annotations

import math

from ..pen import _box, _darker, _lighter, _oval, _points, _ubox, _width

EYE = (20, 20, 25)
PINK = (240, 150, 170)


def _flip(rng) -> int:
    return 1 if rng.random() < 0.5 else -1


def _legs(d, cx, cy, r, us, top, bottom, width, fill, flip):
    for u in us:
        _box(d, cx, cy, r, u - width / 2, top, u + width / 2, bottom, fill, flip)


def draw_dog(d, rng, cx, cy, r, colour):
    """Body, four legs, a raised tail, a head with a long snout, a black nose and a drooping ear."""
    f = _flip(rng)
    dark = _darker(colour, 0.6)
    d.line(_points(cx, cy, r, [(-0.6, -0.05), (-0.85, -0.45), (-0.8, -0.7)], f), fill=colour, width=_width(r, 0.13))
    _legs(d, cx, cy, r, (-0.5, -0.25, 0.2, 0.45), 0.1, 0.7, 0.17, colour, f)
    d.ellipse(_ubox(cx, cy, r, -0.7, -0.25, 0.6, 0.35, f), fill=colour)
    d.ellipse(_ubox(cx, cy, r, 0.35, -0.75, 0.85, -0.2, f), fill=colour)  # head
    d.ellipse(_ubox(cx, cy, r, 0.65, -0.5, 1.05, -0.2, f), fill=colour)  # snout
    _oval(d, cx + f * r * 1.0, cy - r * 0.4, r * 0.09, r * 0.08, fill=EYE)  # nose
    _oval(d, cx + f * r * 0.62, cy - r * 0.55, r * 0.06, r * 0.06, fill=EYE)  # eye
    d.polygon(_points(cx, cy, r, [(0.38, -0.72), (0.55, -0.72), (0.5, -0.2), (0.33, -0.28)], f), fill=dark)  # ear


def draw_horse(d, rng, cx, cy, r, colour):
    """Long body on four thin legs, a long neck and head, a dark mane and tail."""
    f = _flip(rng)
    dark = _darker(colour, 0.45)
    d.line(_points(cx, cy, r, [(-0.7, -0.2), (-0.95, 0.1), (-0.9, 0.45)], f), fill=dark, width=_width(r, 0.14))
    _legs(d, cx, cy, r, (-0.55, -0.35, 0.3, 0.5), 0.1, 0.95, 0.12, colour, f)
    d.ellipse(_ubox(cx, cy, r, -0.75, -0.3, 0.65, 0.25, f), fill=colour)
    d.polygon(_points(cx, cy, r, [(0.35, -0.2), (0.6, -0.85), (0.8, -0.8), (0.7, 0.0)], f), fill=colour)  # neck
    d.polygon(_points(cx, cy, r, [(0.6, -0.95), (1.05, -0.6), (0.98, -0.45), (0.6, -0.6)], f), fill=colour)  # head
    d.line(_points(cx, cy, r, [(0.58, -0.9), (0.42, -0.3)], f), fill=dark, width=_width(r, 0.1))  # mane
    d.polygon(_points(cx, cy, r, [(0.62, -0.95), (0.66, -1.1), (0.72, -0.92)], f), fill=colour)  # ear
    _oval(d, cx + f * r * 0.78, cy - r * 0.74, r * 0.05, r * 0.05, fill=EYE)


def draw_cow(d, rng, cx, cy, r, colour):
    """A boxy body with dark patches, four legs, a head with horns, a pink muzzle and an udder."""
    f = _flip(rng)
    spot = (35, 35, 35) if sum(colour) > 450 else _lighter(colour, 0.75)
    _legs(d, cx, cy, r, (-0.6, -0.4, 0.3, 0.5), 0.1, 0.75, 0.15, colour, f)
    d.rounded_rectangle(_ubox(cx, cy, r, -0.8, -0.35, 0.6, 0.3, f), radius=r * 0.18, fill=colour)
    for u, v, s in ((-0.45, -0.1, 0.18), (0.1, 0.05, 0.15), (-0.1, -0.22, 0.1)):
        _oval(d, cx + f * r * u, cy + r * v, r * s * 1.3, r * s, fill=spot)
    _oval(d, cx + f * r * -0.05, cy + r * 0.35, r * 0.14, r * 0.09, fill=PINK)  # udder
    d.ellipse(_ubox(cx, cy, r, 0.5, -0.65, 0.95, -0.05, f), fill=colour)  # head
    d.ellipse(_ubox(cx, cy, r, 0.62, -0.3, 1.02, 0.02, f), fill=PINK)  # muzzle
    for u in (0.55, 0.9):
        d.line(_points(cx, cy, r, [(u, -0.6), (u + 0.08 * (1 if u > 0.7 else -1), -0.82)], f), fill=(235, 225, 200),
               width=_width(r, 0.08))
    _oval(d, cx + f * r * 0.78, cy - r * 0.45, r * 0.05, r * 0.05, fill=EYE)


def draw_pig(d, rng, cx, cy, r, colour):
    """A round body on short legs, a big snout with nostrils, triangle ears and a curly tail."""
    f = _flip(rng)
    dark = _darker(colour, 0.75)
    d.arc(_ubox(cx, cy, r, -1.0, -0.35, -0.7, -0.05, f), 0, 300, fill=dark, width=_width(r, 0.07))
    _legs(d, cx, cy, r, (-0.45, -0.2, 0.2, 0.45), 0.2, 0.65, 0.16, colour, f)
    d.ellipse(_ubox(cx, cy, r, -0.8, -0.45, 0.65, 0.4, f), fill=colour)
    d.ellipse(_ubox(cx, cy, r, 0.35, -0.6, 0.95, 0.05, f), fill=colour)  # head
    d.polygon(_points(cx, cy, r, [(0.45, -0.45), (0.5, -0.8), (0.65, -0.52)], f), fill=dark)  # ear
    d.ellipse(_ubox(cx, cy, r, 0.8, -0.4, 1.05, -0.1, f), fill=dark)  # snout
    for v in (-0.3, -0.2):
        _oval(d, cx + f * r * 0.95, cy + r * v, r * 0.03, r * 0.03, fill=EYE)
    _oval(d, cx + f * r * 0.68, cy - r * 0.35, r * 0.05, r * 0.05, fill=EYE)


def draw_sheep(d, rng, cx, cy, r, colour):
    """A fluffy body of wool puffs, a dark head and dark legs."""
    f = _flip(rng)
    dark = (45, 40, 40)
    _legs(d, cx, cy, r, (-0.45, -0.2, 0.2, 0.45), 0.2, 0.8, 0.12, dark, f)
    for u, v in ((-0.5, -0.1), (-0.2, -0.3), (0.15, -0.3), (0.45, -0.1), (0.3, 0.2), (-0.05, 0.25), (-0.4, 0.2),
                 (0.0, -0.05)):
        _oval(d, cx + f * r * u, cy + r * v, r * 0.32, r * 0.28, fill=_lighter(colour, rng.uniform(0.0, 0.15)))
    d.ellipse(_ubox(cx, cy, r, 0.6, -0.55, 1.0, -0.05, f), fill=dark)  # head
    d.polygon(_points(cx, cy, r, [(0.6, -0.45), (0.45, -0.4), (0.62, -0.32)], f), fill=dark)  # ear
    _oval(d, cx + f * r * 0.85, cy - r * 0.35, r * 0.05, r * 0.05, fill=(240, 240, 240))


def draw_rabbit(d, rng, cx, cy, r, colour):
    """Sitting: a round body, a head with two long upright ears (pink inside) and a white tail."""
    f = _flip(rng)
    _oval(d, cx - f * r * 0.6, cy + r * 0.35, r * 0.18, r * 0.18, fill=(250, 250, 250))  # tail
    d.ellipse(_ubox(cx, cy, r, -0.65, -0.15, 0.45, 0.85, f), fill=colour)
    d.ellipse(_ubox(cx, cy, r, 0.05, -0.55, 0.7, 0.1, f), fill=colour)  # head
    for u, tilt in ((0.2, -0.12), (0.45, 0.1)):
        ear = [(u - 0.1, -0.45), (u - 0.12 + tilt, -1.1), (u + 0.06 + tilt, -1.1), (u + 0.1, -0.45)]
        d.polygon(_points(cx, cy, r, ear, f), fill=colour)
        d.line(_points(cx, cy, r, [(u, -0.5), (u - 0.03 + tilt, -1.0)], f), fill=PINK, width=_width(r, 0.07))
    _oval(d, cx + f * r * 0.5, cy - r * 0.3, r * 0.05, r * 0.05, fill=EYE)
    _oval(d, cx + f * r * 0.68, cy - r * 0.18, r * 0.05, r * 0.04, fill=PINK)
    _oval(d, cx + f * r * 0.25, cy + r * 0.8, r * 0.2, r * 0.08, fill=_darker(colour, 0.85))  # foot


def draw_duck(d, rng, cx, cy, r, colour):
    """A plump body with a raised tail, a round head, a flat orange beak and a wing."""
    f = _flip(rng)
    d.polygon(_points(cx, cy, r, [(-0.85, -0.05), (-0.5, 0.1), (-0.55, 0.35)], f), fill=colour)  # tail
    d.ellipse(_ubox(cx, cy, r, -0.75, -0.15, 0.55, 0.6, f), fill=colour)
    d.ellipse(_ubox(cx, cy, r, 0.15, -0.75, 0.7, -0.15, f), fill=colour)  # head
    d.polygon(_points(cx, cy, r, [(0.62, -0.48), (1.02, -0.42), (1.0, -0.32), (0.62, -0.3)], f), fill=(245, 140, 30))
    d.ellipse(_ubox(cx, cy, r, -0.45, 0.0, 0.2, 0.35, f), fill=_darker(colour, 0.8))  # wing
    _oval(d, cx + f * r * 0.5, cy - r * 0.52, r * 0.05, r * 0.05, fill=EYE)


def draw_elephant(d, rng, cx, cy, r, colour):
    """A big body on thick legs, a head with a large ear, a long curling trunk and a white tusk."""
    f = _flip(rng)
    dark = _darker(colour, 0.8)
    _legs(d, cx, cy, r, (-0.55, -0.25, 0.15, 0.42), 0.2, 0.85, 0.22, colour, f)
    d.ellipse(_ubox(cx, cy, r, -0.85, -0.5, 0.55, 0.45, f), fill=colour)
    d.ellipse(_ubox(cx, cy, r, 0.3, -0.7, 0.9, -0.05, f), fill=colour)  # head
    d.line(_points(cx, cy, r, [(0.82, -0.3), (0.98, 0.05), (1.0, 0.45), (0.88, 0.6)], f), fill=colour,
           width=_width(r, 0.17))  # trunk
    d.ellipse(_ubox(cx, cy, r, 0.15, -0.62, 0.55, 0.1, f), fill=dark, outline=_darker(colour, 0.6))  # ear
    d.line(_points(cx, cy, r, [(0.78, -0.1), (0.95, 0.1)], f), fill=(245, 240, 225), width=_width(r, 0.07))
    _oval(d, cx + f * r * 0.7, cy - r * 0.45, r * 0.05, r * 0.05, fill=EYE)


def draw_butterfly(d, rng, cx, cy, r, colour):
    """Four wings (upper larger) with spots, a thin dark body and two antennae; seen from above."""
    dark = (40, 30, 30)
    spot = _lighter(colour, 0.6)
    angle = rng.uniform(-0.3, 0.3)
    for s in (-1, 1):
        d.polygon(_points(cx, cy, r, [(0, -0.1), (s * 0.5, -0.85), (s * 1.0, -0.6), (s * 0.9, -0.1)], angle=angle),
                  fill=colour, outline=dark)
        d.polygon(_points(cx, cy, r, [(0, 0.0), (s * 0.75, 0.1), (s * 0.7, 0.6), (s * 0.3, 0.7)], angle=angle),
                  fill=_darker(colour, 0.8), outline=dark)
        x, y = _points(cx, cy, r, [(s * 0.6, -0.45)], angle=angle)[0]
        _oval(d, x, y, r * 0.14, r * 0.14, fill=spot)
        d.line(_points(cx, cy, r, [(0, -0.55), (s * 0.3, -1.0)], angle=angle), fill=dark, width=1)
    d.line(_points(cx, cy, r, [(0, -0.6), (0, 0.6)], angle=angle), fill=dark, width=_width(r, 0.12))


def draw_turtle(d, rng, cx, cy, r, colour):
    """A domed shell with a darker plate pattern, a head, four stubby legs and a tail."""
    f = _flip(rng)
    skin = (120, 160, 80)
    _legs(d, cx, cy, r, (-0.55, -0.3, 0.25, 0.5), 0.0, 0.4, 0.18, skin, f)
    d.polygon(_points(cx, cy, r, [(-0.8, 0.05), (-1.0, 0.15), (-0.8, 0.18)], f), fill=skin)  # tail
    d.ellipse(_ubox(cx, cy, r, 0.55, -0.35, 1.0, 0.1, f), fill=skin)  # head
    _oval(d, cx + f * r * 0.85, cy - r * 0.18, r * 0.05, r * 0.05, fill=EYE)
    d.chord(_ubox(cx, cy, r, -0.85, -0.75, 0.75, 0.55, f), 180, 360, fill=colour)
    dark = _darker(colour, 0.6)
    d.line(_points(cx, cy, r, [(-0.85, -0.1), (0.75, -0.1)], f), fill=dark, width=_width(r, 0.07))
    for u in (-0.45, -0.05, 0.35):
        d.polygon(_points(cx, cy, r, [(u - 0.15, -0.3), (u, -0.5), (u + 0.15, -0.3), (u, -0.15)], f), outline=dark)
    for a in (0.6, 1.0):  # shell rim highlight
        d.point((cx + r * 0.5 * math.cos(a + math.pi), cy - r * 0.5 * math.sin(a)), fill=_lighter(colour, 0.4))


__all__ = ["draw_dog", "draw_horse", "draw_cow", "draw_pig", "draw_sheep", "draw_rabbit", "draw_duck",
           "draw_elephant", "draw_butterfly", "draw_turtle"]
