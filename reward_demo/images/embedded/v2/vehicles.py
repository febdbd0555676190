"""v2 drawings: vehicles, side views facing left or right (the car and the boat keep v1's drawings).

Every function is ``draw(d, rng, cx, cy, r, colour)``: (cx, cy) the centre, r the half-extent in pixels.
"""
from __future__ import annotations

import math

from ..pen import _box, _darker, _lighter, _oval, _points, _ubox, _width

TYRE, HUB = (35, 35, 38), (170, 170, 175)
GLASS = (170, 215, 240)


def _flip(rng) -> int:
    return 1 if rng.random() < 0.5 else -1


def _wheel(d, x, y, radius):
    _oval(d, x, y, radius, radius, fill=TYRE)
    _oval(d, x, y, radius * 0.45, radius * 0.45, fill=HUB)


def draw_bus(d, rng, cx, cy, r, colour):
    """A long box with a row of windows, a door, lights and two wheels."""
    f = _flip(rng)
    d.rounded_rectangle(_ubox(cx, cy, r, -1.0, -0.55, 1.0, 0.45, f), radius=r * 0.12, fill=colour)
    for k in range(5):
        u = -0.85 + k * 0.33
        _box(d, cx, cy, r, u, -0.42, u + 0.25, -0.08, GLASS, f)
    _box(d, cx, cy, r, 0.72, -0.42, 0.92, 0.35, _darker(GLASS, 0.8), f)  # door
    _box(d, cx, cy, r, -1.0, 0.15, 1.0, 0.22, _darker(colour, 0.7), f)  # stripe
    _oval(d, cx + f * r * 0.95, cy + r * 0.3, r * 0.05, r * 0.05, fill=(255, 240, 150))
    for u in (-0.6, 0.55):
        _wheel(d, cx + f * u * r, cy + r * 0.45, r * 0.2)


def draw_truck(d, rng, cx, cy, r, colour):
    """A cab with a window in front of a tall cargo box, on three wheels."""
    f = _flip(rng)
    _box(d, cx, cy, r, -1.0, -0.65, 0.35, 0.4, _lighter(colour, 0.55), f, outline=_darker(colour, 0.7))  # cargo
    d.polygon(_points(cx, cy, r, [(0.4, -0.4), (0.8, -0.4), (1.0, -0.05), (1.0, 0.4), (0.4, 0.4)], f), fill=colour)
    d.polygon(_points(cx, cy, r, [(0.5, -0.32), (0.76, -0.32), (0.9, -0.05), (0.5, -0.05)], f), fill=GLASS)
    _box(d, cx, cy, r, -1.0, 0.3, 1.0, 0.42, _darker(colour, 0.5), f)
    for u in (-0.7, -0.35, 0.7):
        _wheel(d, cx + f * u * r, cy + r * 0.48, r * 0.2)


def draw_bicycle(d, rng, cx, cy, r, colour):
    """Two thin wheels with spokes, a triangular frame, a seat and handlebars."""
    f = _flip(rng)
    w = _width(r, 0.09)
    back, front = (cx - f * r * 0.6, cy + r * 0.3), (cx + f * r * 0.6, cy + r * 0.3)
    for x, y in (back, front):
        _oval(d, x, y, r * 0.4, r * 0.4, outline=TYRE, width=_width(r, 0.07))
        for a in (0, math.pi / 3, 2 * math.pi / 3):
            d.line([(x - r * 0.35 * math.cos(a), y - r * 0.35 * math.sin(a)),
                    (x + r * 0.35 * math.cos(a), y + r * 0.35 * math.sin(a))], fill=HUB, width=1)
    pedal = (cx, cy + r * 0.3)
    seat, head = _points(cx, cy, r, [(-0.2, -0.3), (0.45, -0.35)], f)
    d.line([back, pedal, seat, back], fill=colour, width=w)
    d.line([pedal, head, front], fill=colour, width=w)
    d.line([seat, _points(cx, cy, r, [(-0.25, -0.42)], f)[0]], fill=colour, width=w)
    d.line(_points(cx, cy, r, [(-0.38, -0.45), (-0.1, -0.45)], f), fill=(40, 40, 40), width=_width(r, 0.1))  # seat
    d.line([head, _points(cx, cy, r, [(0.4, -0.55), (0.58, -0.58)], f)[1]], fill=(40, 40, 40), width=w)
    _oval(d, pedal[0], pedal[1], r * 0.08, r * 0.08, fill=(60, 60, 60))


def draw_airplane(d, rng, cx, cy, r, colour):
    """A long fuselage with a row of windows, a swept wing, a tail fin and a cockpit window."""
    f = _flip(rng)
    angle = rng.uniform(-0.25, 0.1) * f
    dark = _darker(colour, 0.7)
    d.polygon(_points(cx, cy, r, [(-0.1, 0.0), (0.15, 0.0), (-0.35, 0.75), (-0.5, 0.75)], f, angle), fill=dark)
    d.polygon(_points(cx, cy, r, [(-0.75, -0.05), (-0.95, -0.6), (-0.78, -0.6), (-0.5, -0.05)], f, angle), fill=dark)
    body = [(1.0, 0.0), (0.85, -0.16), (-0.9, -0.16), (-1.0, -0.05), (-0.9, 0.16), (0.85, 0.16)]
    d.polygon(_points(cx, cy, r, body, f, angle), fill=colour)
    for k in range(6):
        x, y = _points(cx, cy, r, [(-0.55 + k * 0.2, -0.04)], f, angle)[0]
        _oval(d, x, y, max(1, r * 0.04), max(1, r * 0.05), fill=(60, 90, 130))
    x, y = _points(cx, cy, r, [(0.85, -0.06)], f, angle)[0]
    _oval(d, x, y, r * 0.07, r * 0.05, fill=(60, 90, 130))
    d.polygon(_points(cx, cy, r, [(0.1, -0.05), (0.25, -0.05), (-0.2, -0.55), (-0.3, -0.55)], f, angle), fill=dark)


def draw_train(d, rng, cx, cy, r, colour):
    """A steam locomotive: boiler, cab with a window, chimney, cow-catcher and wheels on a rail."""
    f = _flip(rng)
    dark = _darker(colour, 0.6)
    d.line(_points(cx, cy, r, [(-1.0, 0.62), (1.0, 0.62)], f), fill=(90, 70, 50), width=_width(r, 0.06))
    _box(d, cx, cy, r, -0.9, -0.7, -0.25, 0.35, colour, f)  # cab
    _box(d, cx, cy, r, -1.0, -0.8, -0.15, -0.7, dark, f)  # roof
    _box(d, cx, cy, r, -0.75, -0.55, -0.42, -0.2, GLASS, f)
    _box(d, cx, cy, r, -0.25, -0.3, 0.8, 0.35, colour, f)  # boiler
    _box(d, cx, cy, r, 0.4, -0.65, 0.58, -0.3, (40, 40, 40), f)  # chimney
    _box(d, cx, cy, r, 0.35, -0.72, 0.63, -0.62, (40, 40, 40), f)
    d.polygon(_points(cx, cy, r, [(0.8, 0.1), (1.0, 0.55), (0.8, 0.55)], f), fill=dark)
    for u, s in ((-0.65, 0.24), (-0.1, 0.2), (0.35, 0.2)):
        _wheel(d, cx + f * u * r, cy + r * (0.58 - s), r * s)
    d.line(_points(cx, cy, r, [(-0.65, 0.34), (0.35, 0.38)], f), fill=HUB, width=_width(r, 0.06))


def draw_rocket(d, rng, cx, cy, r, colour):
    """Upright: a long body with a pointed nose cone, a round window and three fins."""
    angle = rng.uniform(-0.35, 0.35)
    accent = (200, 40, 45) if sum(colour) > 500 else _lighter(colour, 0.6)
    for s in (-1, 1):
        d.polygon(_points(cx, cy, r, [(s * 0.22, 0.25), (s * 0.55, 0.75), (s * 0.55, 0.95), (s * 0.22, 0.7)],
                          angle=angle), fill=accent)
    body = [(0.0, -1.0), (0.18, -0.72), (0.25, -0.4), (0.25, 0.75), (-0.25, 0.75), (-0.25, -0.4), (-0.18, -0.72)]
    d.polygon(_points(cx, cy, r, body, angle=angle), fill=colour, outline=_darker(colour, 0.7))
    d.polygon(_points(cx, cy, r, [(0.0, -1.0), (0.18, -0.72), (0.22, -0.55), (-0.22, -0.55), (-0.18, -0.72)],
                      angle=angle), fill=accent)
    d.polygon(_points(cx, cy, r, [(-0.06, 0.3), (0.06, 0.3), (0.06, 0.95), (-0.06, 0.95)], angle=angle), fill=accent)
    x, y = _points(cx, cy, r, [(0.0, -0.2)], angle=angle)[0]
    _oval(d, x, y, r * 0.14, r * 0.14, fill=GLASS, outline=(90, 90, 100))


def draw_helicopter(d, rng, cx, cy, r, colour):
    """A rounded cabin with a big window, a tail boom with a small rotor, a main rotor and landing skids."""
    f = _flip(rng)
    dark = (50, 50, 55)
    d.line(_points(cx, cy, r, [(0.0, -0.55), (0.0, -0.75)], f), fill=dark, width=_width(r, 0.08))
    d.line(_points(cx, cy, r, [(-0.95, -0.75), (0.95, -0.75)], f), fill=dark, width=_width(r, 0.07))
    d.polygon(_points(cx, cy, r, [(-0.2, -0.2), (-1.0, -0.15), (-1.0, 0.0), (-0.2, 0.1)], f), fill=colour)  # boom
    d.line(_points(cx, cy, r, [(-0.98, -0.35), (-0.98, 0.2)], f), fill=dark, width=_width(r, 0.06))
    d.ellipse(_ubox(cx, cy, r, -0.45, -0.55, 0.6, 0.35, f), fill=colour)
    d.chord(_ubox(cx, cy, r, 0.0, -0.5, 0.6, 0.2, f), -90 if f == 1 else 90, 90 if f == 1 else 270, fill=GLASS)
    for u in (-0.25, 0.35):
        d.line(_points(cx, cy, r, [(u, 0.3), (u, 0.5)], f), fill=dark, width=_width(r, 0.06))
    d.line(_points(cx, cy, r, [(-0.5, 0.5), (0.65, 0.5), (0.75, 0.42)], f), fill=dark, width=_width(r, 0.07))


__all__ = ["draw_bus", "draw_truck", "draw_bicycle", "draw_airplane", "draw_train", "draw_rocket",
           "draw_helicopter"]
