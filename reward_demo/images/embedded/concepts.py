"""The types of a concept set: what an embedded model draws (``Concept``) and its caption grammar's tables
(``ConceptSet``), with the labels (``SAFE``, ``UNSAFE``) and the groups the code names (``UNSAFE_GROUP``,
``LANDSCAPE_GROUP``).

The sets themselves (v1, the shipped model's; v2, the everyday world) are built in ``catalogue.py``
(``catalogue.concept_set(name)``) from the tables of ``data.py``, ``drawings.py`` and ``v2/``; this module imports
none of them, so that every one of them can import it.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable, Dict, FrozenSet, List, Tuple

SAFE, UNSAFE = "safe", "unsafe"
UNSAFE_GROUP, LANDSCAPE_GROUP = "unsafe", "landscape"


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
    """A model's concepts and caption grammar (compared and hashed by identity: ``catalogue.concept_set`` gives
    one object per name)."""

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


__all__ = ["Concept", "ConceptSet", "SAFE", "UNSAFE", "UNSAFE_GROUP", "LANDSCAPE_GROUP"]
