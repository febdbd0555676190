"""The catalogue of concept sets: ``concept_set(name)``, the one way to get a set (one object per name).

A concept set is a property of a model, not of the code: ``images train-embedded --concept-set NAME`` records
NAME in the folder it writes (``model.write_model_folder``; a folder without the record is a v1 model), and
everything that reads the concept tables at run time (the grammar, the drawings, the concept classifier,
``embedded-report``, ``compare-concepts``, the safety concept, the tab's vocabulary and ``unknown_words``) takes
them from the loaded model's set: ``concept_set(name)`` (or ``model.folder_concept_set``). The functions of
``data.py`` and ``drawings.py`` take the set from their caller.

- **v1**: the shipped model's 17 harmless concepts and 4 hazards (``data.py``'s tables, ``drawings.py``'s
  drawings). Its grammar's random draws are pinned (tests/test_images_concepts.py), so that
  ``train-embedded`` with its defaults reproduces the shipped model bit for bit.
- **v2**: the everyday world (``v2/``): animals, food, vehicles, buildings, plants, weather, everyday objects,
  shapes and landscapes, and a broad hazard family (weapons, explosives, blood and wounds, fire, syringes,
  pills, bullets). Concepts keep natural colours (a red apple, a yellow banana), so the hazards stand apart by
  shape and texture; the caption colours (``data.COLOURS``) still exclude red, orange and black.

The types (``Concept``, ``ConceptSet``) are in ``concepts.py``.
"""
from __future__ import annotations

import functools
from typing import Optional

from . import data, drawings
from .concepts import Concept, ConceptSet
from .v2 import concept_set_v2

CONCEPT_SETS = ("v1", "v2")
DEFAULT_CONCEPT_SET = "v1"


def _v1() -> ConceptSet:
    draw = {**drawings.DRAW_OBJECT, **drawings.DRAW_LANDSCAPE}
    group_of = {c: g for g, cs in data.CONCEPT_GROUPS.items() for c in cs}
    concepts = tuple(Concept(name, group_of[name], tuple(nouns), draw[name],
                             colours=(drawings.DEFAULT_COLOUR[name],) if name in drawings.DEFAULT_COLOUR else ())
                     for name, nouns in data.TRAIN_CONCEPTS.items())
    return ConceptSet("v1", concepts, data.SAFETY_CONCEPT, tuple(data.TEMPLATES), tuple(data.LANDSCAPE_TEMPLATES),
                      tuple(data.HAZARD_TEMPLATES), frozenset(data.MASS_NOUNS), natural_share=0.7,
                      bare_nouns=frozenset({"fire"}))


@functools.lru_cache(maxsize=None)
def _build(name: str) -> ConceptSet:
    return {"v1": _v1, "v2": concept_set_v2}[name]()


def concept_set(name: Optional[str] = None) -> ConceptSet:
    """The concept set called ``name`` (None: ``DEFAULT_CONCEPT_SET``); one object per name."""
    name = name or DEFAULT_CONCEPT_SET
    if name not in CONCEPT_SETS:
        raise ValueError(f"unknown concept set {name!r}; known: {', '.join(CONCEPT_SETS)}")
    return _build(name)


__all__ = ["concept_set", "CONCEPT_SETS", "DEFAULT_CONCEPT_SET"]
