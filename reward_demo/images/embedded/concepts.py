"""The catalogue of concept sets: what an embedded model draws, and the caption grammar's tables for it.

A concept set is a property of a model, not of the code: ``images train-embedded --concept-set NAME`` records
NAME in the folder it writes (``model.write_model_folder``; a folder without the record is a v1 model), and
everything that reads the concept tables at run time (the grammar, the drawings, the concept classifier,
``embedded-report``, ``compare-concepts``, the safety concept, the tab's vocabulary and ``unknown_words``) takes
them from the loaded model's set, obtained one way: ``concept_set(name)`` (or ``model.folder_concept_set``).

- **v1**: the shipped model's 17 harmless concepts and 4 hazards (``data.py``'s tables, ``drawings.py``'s
  drawings). Its grammar's random draws are pinned (tests/test_images_concepts.py), so that
  ``train-embedded`` with its defaults reproduces the shipped model bit for bit.
- **v2**: the everyday world (``v2/``): animals, food, vehicles, buildings, plants, weather, everyday objects,
  shapes and landscapes, and a broad hazard family (weapons, explosives, blood and wounds, fire, syringes,
  pills, bullets). Concepts keep natural colours (a red apple, a yellow banana), so the hazards stand apart by
  shape and texture; the caption colours (``data.COLOURS``) still exclude red, orange and black.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Callable, Dict, FrozenSet, List, Optional, Tuple

SAFE, UNSAFE = "safe", "unsafe"
UNSAFE_GROUP, LANDSCAPE_GROUP = "unsafe", "landscape"
CONCEPT_SETS = ("v1", "v2")
DEFAULT_CONCEPT_SET = "v1"


@dataclass(frozen=True)
class Concept:
    """One drawable concept."""

    name: str
    group: str
    """"unsafe" for a hazard, "landscape" for a scene that fills the frame, else its harmless group"""
    nouns: Tuple[str, ...]
    """the training captions' nouns (the first is the canonical one); paraphrases are left out for held-out prompts"""
    draw: Callable
    """``draw(d, rng, cx, cy, r, colour)`` (objects, hazards) or ``draw(d, rng, size)`` (landscapes)"""
    colours: Tuple[str, ...] = ()
    """natural colours (names of ``data.PALETTE``), drawn when a caption names no colour (``natural_share``)"""
    named_colour: bool = True
    """whether a caption may name a colour for it (False where the drawing keeps its own colours)"""


@dataclass(frozen=True, eq=False)
class ConceptSet:
    """A model's concepts and caption grammar (compared and hashed by identity: one object per name)."""

    name: str
    concepts: Tuple[Concept, ...]
    """in the concept classifier's order"""
    safety_concept: str
    """Safe Latent Diffusion's safety concept for a model of this set"""
    templates: Tuple[str, ...]
    landscape_templates: Tuple[str, ...]
    hazard_templates: Tuple[str, ...]
    mass_nouns: FrozenSet[str]
    """nouns that take no article in captions"""
    natural_share: float
    """how often a concept with natural colours gets one when its caption names no colour"""
    bare_nouns: FrozenSet[str] = frozenset()
    """nouns that the report's canonical prompts write without an article although captions give them one"""

    # ---- derived tables
    @functools.cached_property
    def by_name(self) -> Dict[str, Concept]:
        return {c.name: c for c in self.concepts}

    @functools.cached_property
    def names(self) -> Tuple[str, ...]:
        return tuple(self.by_name)

    @functools.cached_property
    def nouns(self) -> Dict[str, List[str]]:
        """concept -> its training nouns (as ``data.TRAIN_CONCEPTS`` for v1)"""
        return {c.name: list(c.nouns) for c in self.concepts}

    @functools.cached_property
    def groups(self) -> Dict[str, Tuple[str, ...]]:
        """group -> its concepts, in the order groups first occur"""
        out: Dict[str, List[str]] = {}
        for c in self.concepts:
            out.setdefault(c.group, []).append(c.name)
        return {group: tuple(names) for group, names in out.items()}

    @functools.cached_property
    def unsafe(self) -> Tuple[str, ...]:
        return self.groups.get(UNSAFE_GROUP, ())

    @functools.cached_property
    def safe(self) -> Tuple[str, ...]:
        return tuple(c.name for c in self.concepts if c.group != UNSAFE_GROUP)

    @functools.cached_property
    def landscapes(self) -> Tuple[str, ...]:
        return self.groups.get(LANDSCAPE_GROUP, ())

    def label(self, concept: str) -> str:
        if concept not in self.by_name:
            raise ValueError(f"unknown concept {concept!r} in concept set {self.name}; known: {sorted(self.by_name)}")
        return UNSAFE if concept in self.unsafe else SAFE

    def canonical_prompt(self, concept: str) -> str:
        """The concept's first noun as a prompt: "a gun", "an apple", "blood", "mountains"."""
        noun = self.by_name[concept].nouns[0]
        if noun in self.mass_nouns or noun in self.bare_nouns:
            return noun
        return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"

    def training_vocabulary(self) -> set:
        """Every word that can occur in a training caption (lower case), for building held-out prompts."""
        from .data import BACKGROUND_WORDS, COLOURS, POSITIONS, SIZES

        texts = [n for c in self.concepts for n in c.nouns] + list(COLOURS) + list(SIZES) + list(POSITIONS) \
            + list(BACKGROUND_WORDS.values()) + list(self.templates) + list(self.landscape_templates) \
            + list(self.hazard_templates)
        words = set()
        for text in texts:
            words.update(re.findall(r"[a-z]+", re.sub(r"\{[^}]*\}", " ", text.lower())))
        return words | {"a", "an"}


def _v1() -> ConceptSet:
    from . import data, drawings

    draw = {**drawings.DRAW_OBJECT, **drawings.DRAW_LANDSCAPE}
    group_of = {c: g for g, cs in data.CONCEPT_GROUPS.items() for c in cs}
    concepts = tuple(Concept(name, group_of[name], tuple(nouns), draw[name],
                             colours=(drawings.DEFAULT_COLOUR[name],) if name in drawings.DEFAULT_COLOUR else ())
                     for name, nouns in data.TRAIN_CONCEPTS.items())
    return ConceptSet("v1", concepts, data.SAFETY_CONCEPT, tuple(data.TEMPLATES), tuple(data.LANDSCAPE_TEMPLATES),
                      tuple(data.HAZARD_TEMPLATES), frozenset(data.MASS_NOUNS), natural_share=0.7,
                      bare_nouns=frozenset({"fire"}))


def _v2() -> ConceptSet:
    from .v2 import concept_set_v2

    return concept_set_v2()


@functools.lru_cache(maxsize=None)
def _build(name: str) -> ConceptSet:
    return {"v1": _v1, "v2": _v2}[name]()


def concept_set(name: Optional[str] = None) -> ConceptSet:
    """The concept set called ``name`` (None: ``DEFAULT_CONCEPT_SET``); one object per name."""
    name = name or DEFAULT_CONCEPT_SET
    if name not in CONCEPT_SETS:
        raise ValueError(f"unknown concept set {name!r}; known: {', '.join(CONCEPT_SETS)}")
    return _build(name)


__all__ = ["Concept", "ConceptSet", "concept_set", "CONCEPT_SETS", "DEFAULT_CONCEPT_SET", "SAFE", "UNSAFE"]
