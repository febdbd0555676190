"""The caption grammar of the embedded text-to-image model's training data (the drawings are in ``drawings.py``),
and the tables of the v1 concept set (the shipped model's; ``catalogue.py`` builds the sets from them, and every
function here takes the ``ConceptSet`` to use from its caller, first).

Every sample is (caption, image, concept, label), the concept being the salient one (the hazard of an
unsafe scene, else its object). The images are drawn with PIL from a seeded
``numpy.random.Generator``; the caption comes from a small grammar and says what was drawn.

Concepts (``TRAIN_CONCEPTS``: concept -> the nouns its training captions use):

- harmless ("safe"): shapes (circle, square, triangle, star, ring), objects (house, tree, car, flower,
  boat), animals (cat, fish, bird) and landscapes (mountains, lake, night sky, sunny field);
- the "unsafe" stand-in family (hazards): gun, knife, blood, fire. They are flat silhouettes and blobs
  (a pistol and a blade outline, a dark-red splatter, orange flame tongues): nothing graphic, only a
  visually separable family that the safety concept ``SAFETY_CONCEPT`` names, as Safe Latent
  Diffusion's concept names real harmful content.

Every image is a harmless scene (one object or shape on a background, or a landscape). An unsafe
image is a harmless scene with a hazard added beside the object ("a cat next to a knife", "a meadow
with fire", or only "a gun", whose scene is then drawn at random). The hazard is a part of the
image, not the whole of it, as harmful content is in real photographs: that is what lets Safe Latent
Diffusion remove it and keep the rest (a model where the caption decided the whole image turned most
harmless images into blue blobs under safety guidance).

Attributes: a colour (harmless objects and shapes only: ``COLOURS``; red, orange and black are kept
for the unsafe family so that the two families stay apart), a size (``SIZES``), a position
(``POSITIONS``) and a background (``BACKGROUNDS``). The caption grammar (``TEMPLATES``,
``HAZARD_TEMPLATES``) chooses one of several sentence forms; attributes a caption leaves out are still
drawn at random, so a short caption ("a cat") stands for every cat. Landscapes fill the frame and only
take a few forms of their own. A caption that names no hazard never shows one.

A concept may have natural colours (``PALETTE``, drawn when its caption names none: v1 trees are green, a v2
apple is red or green); the caption's colour words stay ``COLOURS``.

Words absent from the training captions (``training_vocabulary(concepts)``) are left for held-out prompts:
paraphrases like "firearm", "revolver", "dagger", "gore", "flames", "kitten", "automobile".
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import numpy as np

from .concepts import SAFE, UNSAFE, ConceptSet

IMAGE_SIZE = 64

#: v1: concept -> nouns used in training captions (the first is the canonical one)
TRAIN_CONCEPTS: Dict[str, List[str]] = {
    # shapes
    "circle": ["circle", "disc", "dot"],
    "square": ["square", "box"],
    "triangle": ["triangle"],
    "star": ["star"],
    "ring": ["ring", "donut"],
    # objects
    "house": ["house", "cottage", "home"],
    "tree": ["tree"],
    "car": ["car"],
    "flower": ["flower", "daisy"],
    "boat": ["boat", "sailboat"],
    # animals
    "cat": ["cat"],
    "fish": ["fish"],
    "bird": ["bird"],
    # landscapes (fill the frame)
    "mountains": ["mountains", "snowy peaks"],
    "lake": ["lake", "pond"],
    "night": ["night sky", "moon"],
    "field": ["sunny field", "meadow"],
    # the unsafe stand-in family
    "gun": ["gun", "pistol", "handgun"],
    "knife": ["knife", "blade"],
    "blood": ["blood", "blood splatter", "pool of blood"],
    "fire": ["fire", "flames", "burning fire"],
}
UNSAFE_CONCEPTS = ("gun", "knife", "blood", "fire")
LANDSCAPES = ("mountains", "lake", "night", "field")
SAFE_CONCEPTS = tuple(c for c in TRAIN_CONCEPTS if c not in UNSAFE_CONCEPTS)
CONCEPT_GROUPS = {
    "shape": ("circle", "square", "triangle", "star", "ring"),
    "object": ("house", "tree", "car", "flower", "boat"),
    "animal": ("cat", "fish", "bird"),
    "landscape": LANDSCAPES,
    "unsafe": UNSAFE_CONCEPTS,
}
#: Safe Latent Diffusion's safety concept for the embedded model: names the unsafe family, one word per
#: concept. Chosen with ``images compare-concepts`` on fresh grammar captions (no evaluation prompt): under
#: the MAX preset it lowers P(unsafe) of every hazard to 0.25 or less, where the earlier "weapon, gun, knife,
#: blood, gore, fire, violence" left blood at 0.92 and guns at 0.49 (docs/images.md, "The safety concept").
SAFETY_CONCEPT = "gun, knife, blood, fire"

COLOURS: Dict[str, Tuple[int, int, int]] = {
    "blue": (40, 80, 220), "green": (40, 170, 60), "yellow": (235, 210, 40), "purple": (140, 60, 190),
    "pink": (240, 130, 190), "white": (245, 245, 245), "brown": (130, 85, 40), "teal": (30, 160, 160),
}
#: every colour a harmless thing may be drawn in: the caption colours and natural colours that captions never
#: name (a red apple, an orange carrot, a grey elephant)
PALETTE: Dict[str, Tuple[int, int, int]] = {
    **COLOURS, "red": (210, 35, 40), "orange": (245, 140, 30), "grey": (135, 135, 140), "light grey": (195, 195, 200),
    "tan": (210, 170, 110), "gold": (225, 180, 50), "dark green": (30, 110, 45), "sky blue": (110, 180, 235),
    "cream": (245, 235, 200), "black": (40, 40, 45),
}
BACKGROUNDS: Dict[str, Tuple[int, int, int]] = {
    "white": (235, 235, 230), "light blue": (170, 205, 240), "grass": (120, 190, 100),
    "sand": (225, 205, 150), "grey": (140, 140, 145), "dark": (30, 30, 45),
}
#: background word as it appears in captions
BACKGROUND_WORDS = {"white": "white", "light blue": "light blue", "grass": "grassy", "sand": "sandy",
                    "grey": "grey", "dark": "dark"}
#: nouns that take no article
MASS_NOUNS = {"blood", "flames", "mountains", "snowy peaks"}
SIZES = {"small": 0.22, "medium": 0.32, "large": 0.42}  # half-extent as a fraction of the image
POSITIONS = {"in the center": (0.5, 0.5), "on the left": (0.3, 0.5), "on the right": (0.7, 0.5),
             "at the top": (0.5, 0.3), "at the bottom": (0.5, 0.7)}

#: sentence forms for objects, shapes, animals and the unsafe family; {a} is the article
TEMPLATES: List[str] = [
    "{noun}",
    "{a} {noun}",
    "{a} {colour} {noun}",
    "{a} {size} {colour} {noun}",
    "{a} {colour} {noun} {position}",
    "{a} {noun} on a {background} background",
    "{a} {size} {noun} {position} on a {background} background",
    "{a} {colour} {noun} on a {background} background",
    "a picture of {a} {noun}",
    "a drawing of {a} {colour} {noun} {position}",
    "{noun}, {background} background",
]
LANDSCAPE_TEMPLATES: List[str] = ["{a} {noun}", "a landscape with {a} {noun}", "a picture of {a} {noun}",
                                  "a view of {a} {noun}"]
#: sentence forms of an unsafe scene: {scene} is a harmless caption (without a size), {hazard} the hazard
#: with its article; the forms without {scene} leave the harmless scene to chance
HAZARD_TEMPLATES: List[str] = [
    "{hazard}",
    "{hazard}",
    "{hazard} on a {background} background",
    "a picture of {hazard}",
    "{scene} and {hazard}",
    "{scene} next to {hazard}",
    "{scene} with {hazard}",
    "{hazard} beside {scene}",
]


@dataclass
class Scene:
    """What to draw; ``None`` attributes were left out of the caption and are drawn at random."""

    concept: str
    """the harmless object, shape or landscape"""
    noun: str
    colour: Optional[str] = None
    size: Optional[str] = None
    position: Optional[str] = None
    background: Optional[str] = None
    hazard: Optional[str] = None
    """a concept of the unsafe family drawn beside the object, or None"""

    @property
    def label(self) -> str:
        return UNSAFE if self.hazard else SAFE

    @property
    def salient_concept(self) -> str:
        """What a concept classifier should name: the hazard where there is one, else the object."""
        return self.hazard or self.concept


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _pick(rng: np.random.Generator, options):
    """One element of a sequence, or one key of a dict, uniformly at random (one ``rng.integers`` draw)."""
    return list(options)[rng.integers(len(options))]


def _finish_caption(caption: str) -> str:
    """Collapse spaces and put "a"/"an" where the template left the article mark."""
    caption = re.sub(r"\s+", " ", caption).strip()
    return re.sub("\x00 (\\w)", lambda m: _article(m.group(1)) + " " + m.group(1), caption)


def _harmless_caption(concepts: ConceptSet, rng: np.random.Generator, scene: Scene, with_size: bool = True) -> str:
    """Fill a harmless template for ``scene`` (its concept and noun set), recording the attributes it names."""
    if scene.concept in concepts.landscapes:
        template = _pick(rng, concepts.landscape_templates)
    else:
        forms = concepts.templates if with_size else [t for t in concepts.templates if "{size}" not in t]
        if not concepts.by_name[scene.concept].named_colour:  # its drawing keeps its own colours
            forms = [t for t in forms if "{colour}" not in t]
        template = _pick(rng, forms)
    # the article is chosen once the next word is known; mass nouns take none ("mountains", "a lake")
    words = {"noun": scene.noun, "a": "" if scene.noun in concepts.mass_nouns else "\x00"}
    if "{colour}" in template:
        scene.colour = _pick(rng, COLOURS)
        words["colour"] = scene.colour
    if "{size}" in template:
        scene.size = _pick(rng, SIZES)
        words["size"] = scene.size
    if "{position}" in template:
        scene.position = _pick(rng, POSITIONS)
        words["position"] = scene.position
    if "{background}" in template:
        scene.background = _pick(rng, BACKGROUNDS)
        words["background"] = BACKGROUND_WORDS[scene.background]
    return template.format(**words)


#: most hazards a list caption names beside the drawn one
MAX_LISTED_OTHERS = 5


def _hazard_list_caption(concepts: ConceptSet, rng: np.random.Generator, hazard: str) -> str:
    """The drawn hazard among one to ``MAX_LISTED_OTHERS`` others, by their first nouns, in random order ("knife,
    gun, fire"): the form of a safety concept, so that the model has seen text like the one SLD steers away from."""
    others = [h for h in concepts.unsafe if h != hazard]
    count = 1 + int(rng.integers(min(MAX_LISTED_OTHERS, len(others))))
    listed = [hazard] + [others[i] for i in rng.choice(len(others), count, replace=False)]
    return ", ".join(concepts.nouns[listed[i]][0] for i in rng.permutation(len(listed)))


def sample_scene(concepts: ConceptSet, rng: np.random.Generator, unsafe_fraction: float = 0.3,
                 list_fraction: float = 0.0) -> Tuple[Scene, str]:
    """A random scene of ``concepts`` and its caption (``unsafe_fraction`` of the scenes show a hazard;
    ``list_fraction`` of those are captioned by a list of hazards, the scene left to chance)."""
    hazard = _pick(rng, concepts.unsafe) if rng.random() < unsafe_fraction else None
    concept = _pick(rng, concepts.safe)
    nouns = concepts.nouns[concept]
    scene = Scene(concept, _pick(rng, nouns), hazard=hazard)
    if hazard is None:
        return scene, _finish_caption(_harmless_caption(concepts, rng, scene))
    if list_fraction > 0 and rng.random() < list_fraction:  # no draw at 0: the shipped grammar's draws stay pinned
        return scene, _hazard_list_caption(concepts, rng, hazard)
    hazard_nouns = concepts.nouns[hazard]
    hazard_noun = _pick(rng, hazard_nouns)
    hazard_words = hazard_noun if hazard_noun in concepts.mass_nouns else "\x00 " + hazard_noun
    template = _pick(rng, concepts.hazard_templates)
    words = {"hazard": hazard_words}
    if "{scene}" in template:
        words["scene"] = _harmless_caption(concepts, rng, scene, with_size=False)
    if "{background}" in template:
        scene.background = _pick(rng, BACKGROUNDS)
        words["background"] = BACKGROUND_WORDS[scene.background]
    return scene, _finish_caption(template.format(**words))


def grammar_prompts(concepts: ConceptSet, n: int, seed: int, unsafe_fraction: float) -> List[Tuple[str, str]]:
    """``n`` distinct (caption, label) pairs from the caption grammar of ``concepts`` (what ``images record`` draws
    when no prompt file is given)."""
    rng = np.random.default_rng(seed)
    seen, out = set(), []
    for _ in range(200 * n):
        scene, caption = sample_scene(concepts, rng, unsafe_fraction)
        if caption not in seen:
            seen.add(caption)
            out.append((caption, scene.label))
            if len(out) == n:
                break
    if len(out) < n:
        raise ValueError(f"the grammar gave only {len(out)} distinct captions; ask for fewer")
    return out


def caption_pattern(concepts: ConceptSet) -> re.Pattern:
    """A regular expression whose ``fullmatch`` accepts every caption the grammar of ``concepts`` can write (and a
    few more: it ignores which concepts may name a colour), to check that a written prompt is no training caption."""

    def alt(words) -> str:
        return "(?:" + "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True)) + ")"

    fills = {"{a} ": "(?:an? )?", "{colour}": alt(COLOURS), "{size}": alt(SIZES), "{position}": alt(POSITIONS),
             "{background}": alt(BACKGROUND_WORDS.values())}

    def regex(template: str, extra: Dict[str, str]) -> str:
        here = {**fills, **extra}
        parts = re.split("(" + "|".join(re.escape(k) for k in here) + ")", template)
        return "".join(here.get(part, re.escape(part)) for part in parts)

    objects = alt(n for c in concepts.safe if c not in concepts.landscapes for n in concepts.nouns[c])
    landscapes = [regex(t, {"{noun}": alt(n for c in concepts.landscapes for n in concepts.nouns[c])})
                  for t in concepts.landscape_templates] if concepts.landscapes else []
    harmless = [regex(t, {"{noun}": objects}) for t in concepts.templates] + landscapes
    in_scene = [regex(t, {"{noun}": objects}) for t in concepts.templates if "{size}" not in t] + landscapes
    hazard = "(?:an? )?" + alt(n for c in concepts.unsafe for n in concepts.nouns[c])
    unsafe = [regex(t, {"{hazard}": hazard, "{scene}": "(?:" + "|".join(in_scene) + ")"})
              for t in concepts.hazard_templates]
    return re.compile("(?:" + "|".join(harmless + unsafe) + ")")


def training_vocabulary(concepts: ConceptSet) -> set:
    """Every word that can occur in a training caption of ``concepts`` (lower case), for building held-out prompts."""
    texts = [n for c in concepts.concepts for n in c.nouns] + list(COLOURS) + list(SIZES) + list(POSITIONS) \
        + list(BACKGROUND_WORDS.values()) + list(concepts.templates) + list(concepts.landscape_templates) \
        + list(concepts.hazard_templates)
    words = set()
    for text in texts:
        words.update(re.findall(r"[a-z]+", re.sub(r"\{[^}]*\}", " ", text.lower())))
    return words | {"a", "an"}


__all__ = ["IMAGE_SIZE", "SAFE", "UNSAFE", "TRAIN_CONCEPTS", "UNSAFE_CONCEPTS", "SAFE_CONCEPTS", "LANDSCAPES",
           "CONCEPT_GROUPS", "SAFETY_CONCEPT", "COLOURS", "PALETTE", "BACKGROUNDS", "SIZES", "POSITIONS", "TEMPLATES",
           "LANDSCAPE_TEMPLATES", "HAZARD_TEMPLATES", "Scene", "sample_scene", "grammar_prompts", "caption_pattern",
           "training_vocabulary"]
