"""The drawings of the embedded model's training data: a ``Scene`` of the caption grammar (``data.py``) drawn
as a 64x64 image with PIL from a seeded ``numpy.random.Generator``, and the captioned samples (``generate``).

Shapes, objects and animals are drawn on a plain background, landscapes fill the frame; the unsafe stand-ins
(gun, knife, blood, fire) are flat silhouettes and blobs drawn beside the harmless object, not the whole image.
Attributes the caption leaves out (colour, size, position, background) are drawn at random here. The drawings
of the v1 concept set are here, those of v2 in ``v2/``; every function here takes the ``ConceptSet`` to draw from
its caller, first (``catalogue.concept_set(name)`` or the model's set).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Dict, Optional

import numpy as np
from PIL import Image, ImageDraw

from .concepts import ConceptSet
from .data import BACKGROUNDS, COLOURS, IMAGE_SIZE, PALETTE, POSITIONS, SIZES, Scene, _pick, sample_scene
from .pen import _darker, _jitter, _regular, _rotate

#: half-extents (fraction of the image) of the object and the hazard when both are drawn
SHARED_OBJECT_SIZE, HAZARD_SIZE = (0.18, 0.28), (0.17, 0.24)
#: where the hazard goes when the caption placed the object
HAZARD_POSITION = {"on the left": (0.72, 0.55), "on the right": (0.28, 0.55), "at the top": (0.5, 0.74),
                   "at the bottom": (0.5, 0.28)}


@dataclass
class Sample:
    caption: str
    image: np.ndarray
    """(64, 64, 3) uint8"""
    concept: str
    """the salient concept: the hazard of an unsafe scene, else its harmless object (``Scene.salient_concept``)"""
    label: str
    """"safe" or "unsafe\""""


def draw_circle(d, rng, cx, cy, r, colour):
    d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour)


def draw_square(d, rng, cx, cy, r, colour):
    d.polygon(_rotate([(cx - r, cy - r), (cx + r, cy - r), (cx + r, cy + r), (cx - r, cy + r)], cx, cy,
                      rng.uniform(-0.4, 0.4)), fill=colour)


def draw_triangle(d, rng, cx, cy, r, colour):
    d.polygon(_regular(cx, cy + r * 0.15, r * 1.1, 3, -math.pi / 2 + rng.uniform(-0.3, 0.3)), fill=colour)


def draw_star(d, rng, cx, cy, r, colour):
    d.polygon(_regular(cx, cy, r * 1.1, 5, -math.pi / 2 + rng.uniform(-0.3, 0.3), inner=r * 0.45), fill=colour)


def draw_ring(d, rng, cx, cy, r, colour):
    d.ellipse([cx - r, cy - r, cx + r, cy + r], outline=colour, width=max(2, int(r * 0.4)))


def draw_house(d, rng, cx, cy, r, colour):
    d.rectangle([cx - r * 0.8, cy - r * 0.2, cx + r * 0.8, cy + r], fill=colour)
    d.polygon([(cx - r, cy - r * 0.2), (cx + r, cy - r * 0.2), (cx, cy - r)], fill=_darker(colour, 0.55))
    d.rectangle([cx - r * 0.2, cy + r * 0.35, cx + r * 0.2, cy + r], fill=(70, 45, 25))


def draw_tree(d, rng, cx, cy, r, colour):
    d.rectangle([cx - r * 0.15, cy, cx + r * 0.15, cy + r], fill=(100, 60, 25))
    d.ellipse([cx - r * 0.8, cy - r, cx + r * 0.8, cy + r * 0.3], fill=colour)


def draw_car(d, rng, cx, cy, r, colour):
    d.rectangle([cx - r, cy - r * 0.1, cx + r, cy + r * 0.45], fill=colour)
    d.polygon([(cx - r * 0.55, cy - r * 0.1), (cx - r * 0.3, cy - r * 0.55), (cx + r * 0.35, cy - r * 0.55),
               (cx + r * 0.6, cy - r * 0.1)], fill=_darker(colour, 0.75))
    for wx in (cx - r * 0.55, cx + r * 0.55):
        d.ellipse([wx - r * 0.25, cy + r * 0.25, wx + r * 0.25, cy + r * 0.75], fill=(35, 35, 35))


def draw_flower(d, rng, cx, cy, r, colour):
    d.line([(cx, cy), (cx, cy + r * 1.1)], fill=(40, 140, 50), width=max(1, int(r * 0.15)))
    for i in range(6):
        a = i * math.pi / 3
        px, py = cx + r * 0.5 * math.cos(a), cy - r * 0.3 + r * 0.5 * math.sin(a)
        d.ellipse([px - r * 0.32, py - r * 0.32, px + r * 0.32, py + r * 0.32], fill=colour)
    d.ellipse([cx - r * 0.25, cy - r * 0.55, cx + r * 0.25, cy - r * 0.05], fill=(250, 220, 60))


def draw_boat(d, rng, cx, cy, r, colour):
    d.polygon([(cx - r, cy + r * 0.3), (cx + r, cy + r * 0.3), (cx + r * 0.7, cy + r * 0.75),
               (cx - r * 0.7, cy + r * 0.75)], fill=colour)
    d.line([(cx, cy + r * 0.3), (cx, cy - r)], fill=(90, 60, 30), width=max(1, int(r * 0.1)))
    d.polygon([(cx + r * 0.05, cy - r * 0.9), (cx + r * 0.05, cy + r * 0.2), (cx + r * 0.75, cy + r * 0.2)],
              fill=(250, 250, 250) if colour != COLOURS["white"] else (200, 200, 210))


def draw_cat(d, rng, cx, cy, r, colour):
    d.polygon([(cx - r * 0.75, cy - r * 0.3), (cx - r * 0.6, cy - r), (cx - r * 0.15, cy - r * 0.6)], fill=colour)
    d.polygon([(cx + r * 0.75, cy - r * 0.3), (cx + r * 0.6, cy - r), (cx + r * 0.15, cy - r * 0.6)], fill=colour)
    d.ellipse([cx - r * 0.8, cy - r * 0.7, cx + r * 0.8, cy + r * 0.8], fill=colour)
    for ex in (cx - r * 0.32, cx + r * 0.32):
        d.ellipse([ex - r * 0.13, cy - r * 0.2, ex + r * 0.13, cy + r * 0.06], fill=(20, 60, 20))
    d.polygon([(cx - r * 0.1, cy + r * 0.2), (cx + r * 0.1, cy + r * 0.2), (cx, cy + r * 0.32)], fill=(230, 120, 140))


def draw_fish(d, rng, cx, cy, r, colour):
    flip = 1 if rng.random() < 0.5 else -1
    d.polygon([(cx - flip * r * 0.5, cy), (cx - flip * r, cy - r * 0.45), (cx - flip * r, cy + r * 0.45)],
              fill=_darker(colour, 0.7))
    d.ellipse([cx - r * 0.7, cy - r * 0.4, cx + r * 0.7, cy + r * 0.4], fill=colour)
    ex = cx + flip * r * 0.35
    d.ellipse([ex - r * 0.09, cy - r * 0.15, ex + r * 0.09, cy + r * 0.03], fill=(15, 15, 15))


def draw_bird(d, rng, cx, cy, r, colour):
    d.ellipse([cx - r * 0.7, cy - r * 0.3, cx + r * 0.5, cy + r * 0.4], fill=colour)
    d.ellipse([cx + r * 0.2, cy - r * 0.6, cx + r * 0.75, cy - r * 0.05], fill=colour)
    d.polygon([(cx + r * 0.72, cy - r * 0.4), (cx + r, cy - r * 0.3), (cx + r * 0.72, cy - r * 0.2)],
              fill=(240, 190, 40))
    d.polygon([(cx - r * 0.5, cy - r * 0.1), (cx + r * 0.1, cy - r * 0.1), (cx - r * 0.4, cy - r * 0.8)],
              fill=_darker(colour, 0.7))


def draw_gun(d, rng, cx, cy, r, colour):
    """A flat pistol silhouette (barrel, slide, grip, trigger guard), facing left or right."""
    flip = 1 if rng.random() < 0.5 else -1
    body = _jitter(rng, (35, 35, 38), 10)
    edge = (110, 110, 115)  # a steel rim, so that the pistol shows on a dark background too
    x = lambda u: cx + flip * u * r  # noqa: E731 - local shorthand for the mirrored x coordinate
    d.polygon([(x(-1.0), cy - r * 0.45), (x(0.9), cy - r * 0.45), (x(0.9), cy - r * 0.05), (x(-1.0), cy - r * 0.05)],
              fill=body, outline=edge)
    d.polygon([(x(0.25), cy - r * 0.1), (x(0.85), cy - r * 0.1), (x(0.95), cy + r * 0.85), (x(0.45), cy + r * 0.85)],
              fill=body, outline=edge)
    d.line([(x(0.25), cy - r * 0.05), (x(0.1), cy + r * 0.35), (x(0.35), cy + r * 0.35)], fill=body,
           width=max(1, int(r * 0.12)))


def draw_knife(d, rng, cx, cy, r, colour):
    """A blade and handle, at a random angle."""
    angle = rng.uniform(-0.8, 0.8) + (math.pi if rng.random() < 0.5 else 0)
    blade = [(cx - r * 1.05, cy), (cx - r * 0.1, cy - r * 0.22), (cx + r * 0.05, cy - r * 0.22),
             (cx + r * 0.05, cy + r * 0.12), (cx - r * 0.3, cy + r * 0.12)]
    handle = [(cx + r * 0.05, cy - r * 0.15), (cx + r * 1.0, cy - r * 0.15), (cx + r * 1.0, cy + r * 0.12),
              (cx + r * 0.05, cy + r * 0.12)]
    d.polygon(_rotate(blade, cx, cy, angle), fill=_jitter(rng, (200, 205, 215), 12))
    d.polygon(_rotate(handle, cx, cy, angle), fill=_jitter(rng, (60, 35, 20), 10))


def draw_blood(d, rng, cx, cy, r, colour):
    """A dark-red splatter: an irregular blob, droplets and drips."""
    red = _jitter(rng, (180, 12, 18), 20)
    n = 14
    points = [(cx + r * rng.uniform(0.45, 1.0) * math.cos(2 * math.pi * i / n),
               cy + r * rng.uniform(0.45, 1.0) * math.sin(2 * math.pi * i / n)) for i in range(n)]
    d.polygon(points, fill=red)
    for _ in range(int(rng.integers(6, 12))):
        a, dist, s = rng.uniform(0, 2 * math.pi), r * rng.uniform(0.9, 1.6), r * rng.uniform(0.06, 0.18)
        px, py = cx + dist * math.cos(a), cy + dist * math.sin(a)
        d.ellipse([px - s, py - s, px + s, py + s], fill=red)
    for _ in range(int(rng.integers(1, 4))):
        px = cx + rng.uniform(-0.6, 0.6) * r
        d.line([(px, cy), (px, cy + r * rng.uniform(1.0, 1.6))], fill=red, width=max(1, int(r * 0.12)))


def draw_fire(d, rng, cx, cy, r, colour):
    """Flame tongues: red outside, orange, yellow core."""
    base = cy + r * 0.9
    for scale, fill in ((1.0, (215, 40, 10)), (0.72, (250, 130, 20)), (0.42, (255, 225, 70))):
        for k in range(3):
            fx = cx + (k - 1) * r * 0.55 * scale
            height = r * scale * (1.9 if k == 1 else rng.uniform(1.1, 1.5))
            width = r * scale * 0.55
            d.polygon([(fx - width, base), (fx - width * 0.6, base - height * 0.5),
                       (fx + rng.uniform(-0.3, 0.3) * width, base - height), (fx + width * 0.6, base - height * 0.5),
                       (fx + width, base)], fill=_jitter(rng, fill, 10))


def draw_mountains(d, rng, size):
    d.rectangle([0, 0, size, size], fill=_jitter(rng, (150, 195, 235)))
    for _ in range(3):
        px, h, w = rng.uniform(0, size), rng.uniform(0.35, 0.65) * size, rng.uniform(0.3, 0.5) * size
        peak = (px, size - h)
        d.polygon([(px - w, size), peak, (px + w, size)], fill=_jitter(rng, (105, 100, 110)))
        d.polygon([peak, (px - w * 0.25, size - h * 0.75), (px + w * 0.25, size - h * 0.75)], fill=(250, 250, 250))


def draw_lake(d, rng, size):
    d.rectangle([0, 0, size, size * 0.4], fill=_jitter(rng, (160, 205, 240)))
    d.rectangle([0, size * 0.4, size, size], fill=_jitter(rng, (70, 150, 60)))
    cx, w = rng.uniform(0.4, 0.6) * size, rng.uniform(0.3, 0.45) * size
    d.ellipse([cx - w, size * rng.uniform(0.5, 0.6), cx + w, size * rng.uniform(0.85, 0.95)], fill=(40, 100, 200))


def draw_night(d, rng, size):
    d.rectangle([0, 0, size, size], fill=_jitter(rng, (15, 20, 60), 10))
    for _ in range(int(rng.integers(8, 16))):
        x, y = rng.uniform(0, size), rng.uniform(0, size)
        d.point([(x, y)], fill=(255, 255, 220))
    mx, my, mr = rng.uniform(0.25, 0.75) * size, rng.uniform(0.2, 0.45) * size, rng.uniform(0.1, 0.16) * size
    d.ellipse([mx - mr, my - mr, mx + mr, my + mr], fill=(245, 240, 200))


def draw_field(d, rng, size):
    horizon = rng.uniform(0.5, 0.65) * size
    d.rectangle([0, 0, size, horizon], fill=_jitter(rng, (120, 190, 245)))
    d.rectangle([0, horizon, size, size], fill=_jitter(rng, (110, 195, 70)))
    sx, sy, sr = rng.uniform(0.2, 0.8) * size, rng.uniform(0.15, 0.3) * size, 0.1 * size
    d.ellipse([sx - sr, sy - sr, sx + sr, sy + sr], fill=(255, 230, 60))


#: v1's drawings (``catalogue.concept_set("v1")`` reads these tables)
DRAW_OBJECT: Dict[str, Callable] = {
    "circle": draw_circle, "square": draw_square, "triangle": draw_triangle, "star": draw_star, "ring": draw_ring,
    "house": draw_house, "tree": draw_tree, "car": draw_car, "flower": draw_flower, "boat": draw_boat,
    "cat": draw_cat, "fish": draw_fish, "bird": draw_bird,
    "gun": draw_gun, "knife": draw_knife, "blood": draw_blood, "fire": draw_fire,
}
DRAW_LANDSCAPE: Dict[str, Callable] = {"mountains": draw_mountains, "lake": draw_lake, "night": draw_night,
                                       "field": draw_field}
#: v1's natural colours: trees are green unless a colour is asked for
DEFAULT_COLOUR = {"tree": "green"}


def _natural_colour(concepts: ConceptSet, rng: np.random.Generator, concept: str) -> Optional[str]:
    """A natural colour of ``concept`` (None when it has none); one draw only where it has several."""
    colours = concepts.by_name[concept].colours
    if not colours:
        return None
    return colours[0] if len(colours) == 1 else _pick(rng, colours)


def render(concepts: ConceptSet, scene: Scene, rng: np.random.Generator, size: int = IMAGE_SIZE) -> np.ndarray:
    """Draw a scene of ``concepts`` as a (size, size, 3) uint8 array; unspecified attributes are drawn from
    ``rng``."""
    image = Image.new("RGB", (size, size))
    d = ImageDraw.Draw(image)
    if scene.concept in concepts.landscapes:
        concepts.by_name[scene.concept].draw(d, rng, size)
        if scene.hazard:  # on the ground, anywhere along it
            hx, hy = rng.uniform(0.25, 0.75), rng.uniform(0.6, 0.72)
            _draw_hazard(concepts, d, rng, scene.hazard, hx, hy, size)
        return np.asarray(image)
    colour_name = scene.colour or (_natural_colour(concepts, rng, scene.concept)
                                   if rng.random() < concepts.natural_share else None) or _pick(rng, COLOURS)
    background = scene.background or _pick(rng, BACKGROUNDS)
    if colour_name == "white" and background == "white":
        background = "grey"  # keep a white object visible
    d.rectangle([0, 0, size, size], fill=_jitter(rng, BACKGROUNDS[background], 10))
    side = 1 if rng.random() < 0.5 else -1  # which side the hazard takes when the caption placed nothing
    if scene.position:
        fx, fy = POSITIONS[scene.position]
    elif scene.hazard:
        fx, fy = 0.5 - side * rng.uniform(0.14, 0.2), rng.uniform(0.4, 0.6)
    else:
        fx, fy = rng.uniform(0.35, 0.65), rng.uniform(0.35, 0.65)
    if scene.size:
        half = SIZES[scene.size]
    else:
        half = rng.uniform(*SHARED_OBJECT_SIZE) if scene.hazard else rng.uniform(0.22, 0.42)
    cx, cy, r = (fx + rng.normal(0, 0.03)) * size, (fy + rng.normal(0, 0.03)) * size, half * size
    concepts.by_name[scene.concept].draw(d, rng, cx, cy, r, _jitter(rng, PALETTE[colour_name]))
    if scene.hazard:
        if scene.position in HAZARD_POSITION:
            hx, hy = HAZARD_POSITION[scene.position]
        elif scene.position:  # the object is in the centre: the hazard goes to a lower corner
            hx, hy = 0.5 + side * 0.3, 0.74
        else:
            hx, hy = 0.5 + side * rng.uniform(0.16, 0.22), rng.uniform(0.4, 0.6)
        _draw_hazard(concepts, d, rng, scene.hazard, hx, hy, size)
    return np.asarray(image)


def _draw_hazard(concepts: ConceptSet, d, rng: np.random.Generator, hazard: str, fx: float, fy: float, size: int):
    half = rng.uniform(*HAZARD_SIZE)
    concepts.by_name[hazard].draw(d, rng, (fx + rng.normal(0, 0.02)) * size, (fy + rng.normal(0, 0.02)) * size,
                                  half * size, None)


def make_sample(concepts: ConceptSet, rng: np.random.Generator, unsafe_fraction: float = 0.3,
                list_fraction: float = 0.0) -> Sample:
    scene, caption = sample_scene(concepts, rng, unsafe_fraction, list_fraction)
    return Sample(caption, render(concepts, scene, rng), scene.salient_concept, scene.label)


def generate(concepts: ConceptSet, n: int, seed: int, unsafe_fraction: float = 0.3,
             list_fraction: float = 0.0) -> Dict[str, object]:
    """``n`` samples of ``concepts`` from one seeded generator: {"images" (n,64,64,3) uint8, "captions", "concepts",
    "labels"} (``list_fraction``: ``sample_scene``'s).

    "concepts" are the salient concepts (the hazard of an unsafe scene, else its object)."""
    rng = np.random.default_rng(seed)
    samples = [make_sample(concepts, rng, unsafe_fraction, list_fraction) for _ in range(n)]
    images = np.stack([s.image for s in samples]) if samples else np.zeros((0, IMAGE_SIZE, IMAGE_SIZE, 3), np.uint8)
    return {"images": images,
            "captions": [s.caption for s in samples], "concepts": [s.concept for s in samples],
            "labels": [s.label for s in samples]}


def render_concept(concepts: ConceptSet, concept: str, rng: np.random.Generator) -> np.ndarray:
    """An image of ``concepts`` whose salient concept is ``concept`` (a hazard is drawn beside a random harmless
    object)."""
    if concept in concepts.unsafe:
        base = _pick(rng, concepts.safe)
        return render(concepts, Scene(base, concepts.nouns[base][0], hazard=concept), rng)
    return render(concepts, Scene(concept, concepts.nouns[concept][0]), rng)


__all__ = ["Sample", "render", "make_sample", "generate", "render_concept", "DRAW_OBJECT", "DRAW_LANDSCAPE"]
