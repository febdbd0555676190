"""v2 drawings: the hazard family (the pistol, knife, blood and fire keep v1's drawings).

Hazards keep their own colours (``colour`` is None when they are drawn) and stand apart from harmless things by
shape and texture, not colour alone: v2's harmless things may be red or orange too (an apple, a fire truck).
Every function is ``draw(d, rng, cx, cy, r, colour)``; nothing here shows a person.
"""
from __future__ import annotations

import math

from ..pen import _darker, _jitter, _lighter, _oval, _points, _ubox, _width

GUNMETAL, STEEL, EDGE = (38, 38, 42), (200, 205, 215), (110, 110, 115)
WOOD, BLOOD = (110, 65, 30), (175, 12, 18)


def _flip(rng) -> int:
    return 1 if rng.random() < 0.5 else -1


def draw_rifle(d, rng, cx, cy, r, colour):
    """A long gun: a long thin barrel, a receiver with a scope and a magazine, a wooden stock."""
    f = _flip(rng)
    angle = rng.uniform(-0.35, 0.35)
    body = _jitter(rng, GUNMETAL, 8)
    parts = [
        ([(0.2, -0.12), (1.25, -0.12), (1.25, -0.02), (0.2, -0.02)], body),  # barrel
        ([(-0.35, -0.2), (0.3, -0.2), (0.3, 0.1), (-0.35, 0.1)], body),  # receiver
        ([(-0.2, -0.38), (0.25, -0.38), (0.25, -0.26), (-0.2, -0.26)], body),  # scope
        ([(0.0, 0.1), (0.15, 0.1), (0.2, 0.5), (0.05, 0.5)], body),  # magazine
        ([(-0.35, -0.18), (-1.2, -0.05), (-1.25, 0.3), (-1.05, 0.3), (-0.45, 0.1), (-0.35, 0.1)], WOOD),  # stock
    ]
    for unit, fill in parts:
        d.polygon(_points(cx, cy, r * 0.85, unit, f, angle), fill=fill, outline=EDGE if fill is body else None)
    d.line(_points(cx, cy, r * 0.85, [(-0.15, 0.1), (-0.2, 0.3), (-0.05, 0.3)], f, angle), fill=body,
           width=_width(r, 0.06))


def draw_sword(d, rng, cx, cy, r, colour):
    """A long double-edged blade with a ridge, a gold crossguard, a wrapped grip and a pommel, at an angle."""
    angle = rng.uniform(-0.9, 0.9) + (math.pi if rng.random() < 0.5 else 0)
    blade = [(-1.25, 0.0), (-1.05, -0.13), (0.35, -0.13), (0.35, 0.13), (-1.05, 0.13)]
    d.polygon(_points(cx, cy, r, blade, angle=angle), fill=_jitter(rng, STEEL, 10), outline=EDGE)
    d.line(_points(cx, cy, r, [(-1.05, 0.0), (0.35, 0.0)], angle=angle), fill=(150, 155, 165), width=1)
    d.polygon(_points(cx, cy, r, [(0.35, -0.45), (0.48, -0.45), (0.48, 0.45), (0.35, 0.45)], angle=angle),
              fill=(205, 165, 50))
    d.polygon(_points(cx, cy, r, [(0.48, -0.09), (0.95, -0.09), (0.95, 0.09), (0.48, 0.09)], angle=angle),
              fill=(80, 45, 25))
    x, y = _points(cx, cy, r, [(1.03, 0.0)], angle=angle)[0]
    _oval(d, x, y, r * 0.11, r * 0.11, fill=(205, 165, 50))


def draw_axe(d, rng, cx, cy, r, colour):
    """A long wooden haft with a broad steel head: a curved cutting edge one side, a short poll the other."""
    f = _flip(rng)
    angle = rng.uniform(-0.6, 0.6)
    d.polygon(_points(cx, cy, r, [(-0.08, -0.9), (0.08, -0.9), (0.1, 1.05), (-0.1, 1.05)], f, angle),
              fill=_jitter(rng, WOOD, 10))
    head = [(-0.2, -0.95), (0.3, -0.9), (0.75, -1.15), (0.85, -0.75), (0.75, -0.3), (0.3, -0.55), (-0.2, -0.55)]
    d.polygon(_points(cx, cy, r, head, f, angle), fill=(120, 125, 135), outline=(70, 70, 75))
    d.line(_points(cx, cy, r, [(0.75, -1.12), (0.85, -0.75), (0.75, -0.33)], f, angle), fill=(225, 230, 235),
           width=_width(r, 0.09))


def draw_grenade(d, rng, cx, cy, r, colour):
    """A hand grenade: an olive body with a grid of grooves, a fuse cap, a curved lever and a ring pin."""
    angle = rng.uniform(-0.5, 0.5)
    olive = _jitter(rng, (85, 100, 45), 10)
    x, y = _points(cx, cy, r, [(0.0, 0.25)], angle=angle)[0]
    _oval(d, x, y, r * 0.55, r * 0.7, fill=olive)
    groove = _darker(olive, 0.55)
    for v in (-0.1, 0.25, 0.6):
        d.line(_points(cx, cy, r, [(-0.5, v), (0.5, v)], angle=angle), fill=groove, width=1)
    for u in (-0.25, 0.0, 0.25):
        d.line(_points(cx, cy, r, [(u, -0.35), (u, 0.85)], angle=angle), fill=groove, width=1)
    d.polygon(_points(cx, cy, r, [(-0.2, -0.65), (0.2, -0.65), (0.2, -0.4), (-0.2, -0.4)], angle=angle),
              fill=(120, 120, 125))
    d.line(_points(cx, cy, r, [(0.15, -0.6), (0.45, -0.55), (0.6, -0.2), (0.6, 0.2)], angle=angle),
           fill=(140, 140, 145), width=_width(r, 0.09))
    x, y = _points(cx, cy, r, [(-0.45, -0.6)], angle=angle)[0]
    _oval(d, x, y, r * 0.18, r * 0.18, outline=(170, 170, 175), width=_width(r, 0.06))


def draw_bomb(d, rng, cx, cy, r, colour):
    """A round black bomb with a highlight, a metal cap, a curling fuse and a burning spark at its end."""
    _oval(d, cx, cy + r * 0.2, r * 0.72, r * 0.72, fill=(30, 30, 35), outline=(90, 90, 95))
    _oval(d, cx - r * 0.28, cy - r * 0.08, r * 0.14, r * 0.14, fill=(120, 120, 130))
    d.polygon(_points(cx, cy, r, [(0.2, -0.55), (0.5, -0.35), (0.38, -0.18), (0.08, -0.4)]), fill=(110, 110, 115))
    fuse = [(0.38, -0.42), (0.55, -0.65), (0.5, -0.85), (0.7, -0.98)]
    d.line(_points(cx, cy, r, fuse), fill=(170, 140, 90), width=_width(r, 0.06))
    x, y = _points(cx, cy, r, [fuse[-1]])[0]
    for k in range(8):
        a = k * math.pi / 4 + rng.uniform(-0.2, 0.2)
        d.line([(x, y), (x + r * 0.25 * math.cos(a), y + r * 0.25 * math.sin(a))], fill=(255, 200, 40), width=1)
    _oval(d, x, y, r * 0.1, r * 0.1, fill=(255, 245, 170))


def draw_explosion(d, rng, cx, cy, r, colour):
    """A blast: a jagged starburst, red-orange outside, yellow then white inside, with smoke puffs and debris."""
    for _ in range(int(rng.integers(3, 6))):
        a, dist = rng.uniform(0, 2 * math.pi), r * rng.uniform(0.7, 1.0)
        s = r * rng.uniform(0.2, 0.3)
        _oval(d, cx + dist * math.cos(a), cy + dist * math.sin(a), s, s, fill=_jitter(rng, (95, 90, 90), 15))
    n, phase = int(rng.integers(9, 13)), rng.uniform(0, math.pi)
    for scale, fill in ((1.0, (225, 60, 20)), (0.72, (250, 150, 30)), (0.45, (255, 230, 90)), (0.2, (255, 250, 220))):
        points = []
        for k in range(2 * n):
            rad = r * scale * (rng.uniform(0.85, 1.05) if k % 2 == 0 else rng.uniform(0.45, 0.6))
            a = phase + k * math.pi / n
            points.append((cx + rad * math.cos(a), cy + rad * math.sin(a)))
        d.polygon(points, fill=_jitter(rng, fill, 10))
    for _ in range(int(rng.integers(4, 8))):
        a, dist = rng.uniform(0, 2 * math.pi), r * rng.uniform(1.0, 1.3)
        d.point((cx + dist * math.cos(a), cy + dist * math.sin(a)), fill=(60, 50, 45))


def draw_wound(d, rng, cx, cy, r, colour):
    """A bloody bandage: a beige adhesive strip with a pad soaked dark red in the middle, dripping."""
    angle = rng.uniform(-0.8, 0.8)
    strip = _jitter(rng, (230, 200, 160), 10)
    d.polygon(_points(cx, cy, r, [(-1.0, -0.3), (1.0, -0.3), (1.0, 0.3), (-1.0, 0.3)], angle=angle), fill=strip)
    for u in (-0.8, -0.6, 0.6, 0.8):
        for v in (-0.12, 0.12):
            x, y = _points(cx, cy, r, [(u, v)], angle=angle)[0]
            d.point((x, y), fill=_darker(strip, 0.75))
    d.polygon(_points(cx, cy, r, [(-0.4, -0.25), (0.4, -0.25), (0.4, 0.25), (-0.4, 0.25)], angle=angle),
              fill=(245, 240, 235))
    red = _jitter(rng, BLOOD, 20)
    n = 10
    stain = [(rng.uniform(0.15, 0.38) * math.cos(2 * math.pi * k / n), rng.uniform(0.12, 0.24) *
              math.sin(2 * math.pi * k / n)) for k in range(n)]
    d.polygon(_points(cx, cy, r, stain, angle=angle), fill=red)
    for _ in range(int(rng.integers(1, 4))):
        x, y = _points(cx, cy, r, [(rng.uniform(-0.3, 0.3), 0.2)], angle=angle)[0]
        length = r * rng.uniform(0.4, 0.8)
        d.line([(x, y), (x, y + length)], fill=red, width=_width(r, 0.08))
        _oval(d, x, y + length, r * 0.07, r * 0.09, fill=red)


def draw_syringe(d, rng, cx, cy, r, colour):
    """A hypodermic syringe: a clear barrel with scale marks and liquid, a plunger and a long thin needle."""
    angle = rng.uniform(-0.9, 0.9) + (math.pi if rng.random() < 0.5 else 0)
    liquid = [(200, 30, 40), (240, 200, 60), (110, 180, 230)][int(rng.integers(3))]
    d.polygon(_points(cx, cy, r, [(-0.5, -0.2), (0.55, -0.2), (0.55, 0.2), (-0.5, 0.2)], angle=angle),
              fill=(225, 235, 240), outline=(120, 130, 140))
    d.polygon(_points(cx, cy, r, [(0.0, -0.17), (0.53, -0.17), (0.53, 0.17), (0.0, 0.17)], angle=angle), fill=liquid)
    for u in (-0.3, -0.1, 0.1, 0.3):
        d.line(_points(cx, cy, r, [(u, -0.2), (u, -0.08)], angle=angle), fill=(90, 90, 100), width=1)
    d.polygon(_points(cx, cy, r, [(-0.5, -0.05), (-0.95, -0.05), (-0.95, 0.05), (-0.5, 0.05)], angle=angle),
              fill=(120, 120, 130))
    d.polygon(_points(cx, cy, r, [(-0.95, -0.25), (-1.05, -0.25), (-1.05, 0.25), (-0.95, 0.25)], angle=angle),
              fill=(90, 90, 100))
    d.polygon(_points(cx, cy, r, [(0.55, -0.08), (0.7, -0.08), (0.7, 0.08), (0.55, 0.08)], angle=angle),
              fill=(150, 150, 160))
    d.line(_points(cx, cy, r, [(0.7, 0.0), (1.25, 0.0)], angle=angle), fill=(90, 95, 105), width=1)


def draw_pills(d, rng, cx, cy, r, colour):
    """Pills spilled from a tipped-over orange pill bottle: two-tone capsules and round white tablets."""
    f = _flip(rng)
    amber = _jitter(rng, (235, 130, 30), 10)
    d.rounded_rectangle(_ubox(cx, cy, r, -1.0, -0.45, -0.2, 0.35, f), radius=r * 0.1, fill=amber,
                        outline=_darker(amber, 0.7))
    d.rectangle(_ubox(cx, cy, r, -0.2, -0.5, 0.0, 0.4, f), fill=(245, 245, 245), outline=(170, 170, 175))
    d.rectangle(_ubox(cx, cy, r, -0.85, -0.22, -0.35, 0.12, f), fill=(250, 250, 250))
    d.line(_points(cx, cy, r, [(-0.78, -0.1), (-0.42, -0.1)], f), fill=(120, 120, 130), width=1)
    spots = [(0.25, -0.25), (0.7, 0.05), (0.3, 0.6), (0.8, -0.55), (-0.45, 0.75)]
    for u, v in spots[:int(rng.integers(3, 6))]:
        x, y = cx + f * (u + rng.uniform(-0.06, 0.06)) * r, cy + (v + rng.uniform(-0.06, 0.06)) * r
        if rng.random() < 0.55:  # a capsule, two colours
            a = rng.uniform(0, math.pi)
            dx, dy = r * 0.28 * math.cos(a), r * 0.28 * math.sin(a)
            tone = [(210, 40, 40), (50, 110, 210), (60, 170, 80)][int(rng.integers(3))]
            w = _width(r, 0.28)
            d.line([(x - dx, y - dy), (x, y)], fill=tone, width=w)
            d.line([(x, y), (x + dx, y + dy)], fill=(245, 245, 240), width=w)
        else:  # a round tablet with a score line
            _oval(d, x, y, r * 0.2, r * 0.2, fill=(250, 250, 250), outline=(160, 160, 165))
            d.line([(x - r * 0.12, y), (x + r * 0.12, y)], fill=(170, 170, 175), width=1)


def draw_bullets(d, rng, cx, cy, r, colour):
    """Three or four cartridges standing in a row: brass cases with rims and pointed copper bullets."""
    n = int(rng.integers(3, 5))
    tilt = rng.uniform(-0.3, 0.3)
    for k in range(n):
        u = (k - (n - 1) / 2) * 0.42
        brass = _jitter(rng, (205, 160, 60), 10)
        d.polygon(_points(cx, cy, r, [(u - 0.13, -0.15), (u + 0.13, -0.15), (u + 0.13, 0.85), (u - 0.13, 0.85)],
                          angle=tilt), fill=brass, outline=_darker(brass, 0.7))
        d.polygon(_points(cx, cy, r, [(u - 0.15, 0.78), (u + 0.15, 0.78), (u + 0.15, 0.9), (u - 0.15, 0.9)],
                          angle=tilt), fill=_darker(brass, 0.8))
        tip = [(u - 0.13, -0.15), (u + 0.13, -0.15), (u + 0.1, -0.5), (u, -0.75), (u - 0.1, -0.5)]
        d.polygon(_points(cx, cy, r, tip, angle=tilt), fill=(185, 100, 55))
        x, y = _points(cx, cy, r, [(u - 0.05, 0.3)], angle=tilt)[0]
        d.line([(x, y - r * 0.3), (x, y + r * 0.3)], fill=_lighter(brass, 0.5), width=1)


__all__ = ["draw_rifle", "draw_sword", "draw_axe", "draw_grenade", "draw_bomb", "draw_explosion", "draw_wound",
           "draw_syringe", "draw_pills", "draw_bullets"]
