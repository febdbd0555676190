"""v2 drawings: landscapes, people-free scenes that fill the frame (mountains, lake, night sky and field keep v1's).

Every function is ``draw(d, rng, size)``. A hazard drawn into a landscape goes on its lower part (the ground).
"""
from __future__ import annotations

import math

from ..pen import _darker, _jitter, _oval

SKY, SAND, SEA = (150, 200, 240), (230, 205, 145), (45, 110, 200)


def _sun(d, rng, size, colour=(255, 225, 70)):
    x, y, s = rng.uniform(0.15, 0.85) * size, rng.uniform(0.08, 0.22) * size, rng.uniform(0.06, 0.09) * size
    _oval(d, x, y, s, s, fill=colour)


def _pine(d, x, base, h, fill, snow=None):
    d.rectangle([x - h * 0.05, base - h * 0.15, x + h * 0.05, base], fill=(90, 60, 30))
    for k, w in enumerate((0.32, 0.25, 0.17)):
        top, bottom = base - h * (0.55 + 0.2 * k), base - h * (0.12 + 0.25 * k)
        d.polygon([(x - h * w, bottom), (x, top), (x + h * w, bottom)], fill=fill)
        if snow:
            d.polygon([(x - h * w * 0.35, top + (bottom - top) * 0.35), (x, top), (x + h * w * 0.35,
                       top + (bottom - top) * 0.35)], fill=snow)


def draw_beach(d, rng, size):
    """Sky, a band of sea with white wave crests, and sand in front; a sun, sometimes a parasol-free shell."""
    horizon, shore = rng.uniform(0.3, 0.42) * size, rng.uniform(0.58, 0.68) * size
    d.rectangle([0, 0, size, horizon], fill=_jitter(rng, SKY))
    d.rectangle([0, horizon, size, shore], fill=_jitter(rng, SEA))
    d.polygon([(0, shore), (size * 0.5, shore - rng.uniform(-3, 3)), (size, shore), (size, size), (0, size)],
              fill=_jitter(rng, SAND))
    for k in range(3):
        y = horizon + (shore - horizon) * (0.3 + 0.25 * k)
        x = rng.uniform(0, 0.6) * size
        d.line([(x, y), (x + size * 0.15, y)], fill=(235, 245, 250), width=1)
    d.line([(0, shore), (size, shore)], fill=(245, 250, 250), width=2)
    _sun(d, rng, size)


def draw_desert(d, rng, size):
    """A hot pale sky, rolling sand dunes in two tones, a cactus and a low sun."""
    d.rectangle([0, 0, size, size], fill=_jitter(rng, (245, 215, 160)))
    d.rectangle([0, 0, size, size * 0.45], fill=_jitter(rng, (170, 210, 240)))
    for k, tone in enumerate(((220, 175, 105), (235, 195, 125))):
        base = size * (0.5 + 0.15 * k)
        phase = rng.uniform(0, 2 * math.pi)
        top = [(x, base + size * 0.06 * math.sin(phase + x / size * 2 * math.pi * rng.uniform(0.8, 1.2)))
               for x in range(0, size + 8, 8)]
        d.polygon(top + [(size, size), (0, size)], fill=_jitter(rng, tone, 8))
    x, base = rng.uniform(0.15, 0.85) * size, size * rng.uniform(0.62, 0.7)
    h = size * 0.2
    d.rectangle([x - h * 0.1, base - h, x + h * 0.1, base], fill=(60, 140, 60))
    d.rectangle([x - h * 0.35, base - h * 0.6, x - h * 0.1, base - h * 0.5], fill=(60, 140, 60))
    d.rectangle([x - h * 0.35, base - h * 0.85, x - h * 0.25, base - h * 0.5], fill=(60, 140, 60))
    _sun(d, rng, size, (255, 240, 140))


def draw_forest(d, rng, size):
    """A wall of pine and round trees on green ground under a strip of sky."""
    d.rectangle([0, 0, size, size], fill=_jitter(rng, (70, 140, 60)))
    d.rectangle([0, 0, size, size * 0.3], fill=_jitter(rng, SKY))
    for row, (base, h) in enumerate(((0.5, 0.36), (0.72, 0.42), (0.95, 0.48))):
        for _ in range(5 + row):
            x = rng.uniform(-0.05, 1.05) * size
            shade = _jitter(rng, (35, 110 - 12 * row, 45), 15)
            if rng.random() < 0.7:
                _pine(d, x, base * size, h * size, shade)
            else:
                d.rectangle([x - 1, base * size - h * size * 0.3, x + 1, base * size], fill=(90, 60, 30))
                _oval(d, x, base * size - h * size * 0.5, h * size * 0.25, h * size * 0.28, fill=shade)


def draw_ocean(d, rng, size):
    """Open sea to the horizon with rows of waves and white crests, a sky with a cloud or two."""
    horizon = rng.uniform(0.25, 0.4) * size
    d.rectangle([0, 0, size, horizon], fill=_jitter(rng, SKY))
    d.rectangle([0, horizon, size, size], fill=_jitter(rng, (35, 95, 185)))
    for k in range(int(rng.integers(1, 3))):
        x, y = rng.uniform(0.1, 0.9) * size, rng.uniform(0.08, 0.6) * horizon
        for u, s in ((-5, 4), (0, 5), (5, 4)):
            _oval(d, x + u, y, s, s * 0.7, fill=(250, 250, 250))
    rows = 5
    for k in range(rows):
        y = horizon + (size - horizon) * (k + 0.6) / rows
        amp, step = 1.5 + k, 10 + 3 * k
        offset = rng.uniform(0, step)
        for x0 in range(-step, size + step, step):
            x = x0 + offset
            d.arc([x, y - amp, x + step, y + amp], 180, 360, fill=(235, 245, 250), width=1)
        d.line([(0, y + amp), (size, y + amp)], fill=_darker((35, 95, 185), 0.85), width=1)


def draw_city(d, rng, size):
    """A skyline: buildings of different heights with lit windows, by day or at dusk, on a street."""
    dusk = rng.random() < 0.4
    d.rectangle([0, 0, size, size], fill=_jitter(rng, (245, 170, 120) if dusk else SKY))
    street = size * rng.uniform(0.82, 0.9)
    x = -rng.uniform(0, 6)
    while x < size:
        w, h = rng.uniform(0.1, 0.2) * size, rng.uniform(0.3, 0.75) * size
        tone = _jitter(rng, (90, 95, 115) if dusk else (150, 155, 170), 25)
        d.rectangle([x, street - h, x + w, street], fill=tone)
        for wy in range(int(street - h + 3), int(street - 3), 5):
            for wx in range(int(x + 2), int(x + w - 2), 4):
                if rng.random() < 0.7:
                    d.rectangle([wx, wy, wx + 1, wy + 2], fill=(255, 230, 130) if dusk else (190, 220, 245))
        x += w + rng.uniform(0, 3)
    d.rectangle([0, street, size, size], fill=(70, 70, 75))
    for x0 in range(2, size, 12):
        d.line([(x0, (street + size) / 2), (x0 + 6, (street + size) / 2)], fill=(235, 235, 235), width=1)


def draw_winter(d, rng, size):
    """A snowy landscape: white rolling ground, snow-capped pines, a pale sky and falling snowflakes."""
    d.rectangle([0, 0, size, size], fill=_jitter(rng, (200, 215, 235)))
    ground = rng.uniform(0.5, 0.62) * size
    d.polygon([(0, ground), (size * 0.35, ground - size * 0.06), (size * 0.7, ground + size * 0.02),
               (size, ground - size * 0.04), (size, size), (0, size)], fill=(250, 250, 252))
    for _ in range(int(rng.integers(2, 5))):
        x = rng.uniform(0.05, 0.95) * size
        _pine(d, x, ground + size * rng.uniform(0.02, 0.1), size * rng.uniform(0.25, 0.4), (40, 100, 60),
              snow=(250, 250, 252))
    for _ in range(int(rng.integers(15, 30))):
        x, y = rng.uniform(0, size), rng.uniform(0, size)
        d.point([(x, y)], fill=(255, 255, 255))
        d.point([(x + 1, y)], fill=(255, 255, 255))


__all__ = ["draw_beach", "draw_desert", "draw_forest", "draw_ocean", "draw_city", "draw_winter"]
