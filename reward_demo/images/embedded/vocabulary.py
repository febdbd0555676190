"""What the embedded image model can draw, and which words of a prompt it never saw in training.

The embedded model was trained only on captions of the grammar in ``data.py`` for its concept set
(``catalogue.py``): about a hundred concepts (v2; v1: 21) with a few colours, sizes, positions and backgrounds.
Its text encoder (MiniLM) reads any English word, so a prompt made of words it never saw ("a puppy on grass") still
gives an image, drawn from whatever concept the sentence embedding lands near, and a verdict on it is close to chance.
Everything here is derived from the concept set's tables, so it follows the model: by default the set of the
shipped folder (``model.folder_concept_set``), which the Images tab runs.

For another model (a real Stable Diffusion checkpoint) the training captions are unknown: ``unknown_words`` then
returns None ("not known"), not an empty list ("every word known").
"""
from __future__ import annotations

import functools
import re
from typing import Dict, List, Optional, Union

from . import data
from .concepts import UNSAFE_GROUP, ConceptSet

_WORD = re.compile(r"[a-z]+")
#: how the tab titles a group (default: the group's name with an "s")
GROUP_TITLES = {UNSAFE_GROUP: "unsafe stand-ins", "food": "food", "weather": "weather"}


def _resolve(concepts: Optional[ConceptSet]) -> ConceptSet:
    if concepts is not None:
        return concepts
    from .model import folder_concept_set

    return folder_concept_set()


@functools.lru_cache(maxsize=8)
def _words(concepts: ConceptSet) -> frozenset:
    return frozenset(data.training_vocabulary(concepts))


def training_words(concepts: Optional[ConceptSet] = None) -> frozenset:
    """Every word of the training captions of ``concepts`` (default: the shipped model's set)."""
    return _words(_resolve(concepts))


def unknown_words(prompt: str, embedded: Union[bool, ConceptSet] = True) -> Optional[List[str]]:
    """The words of ``prompt`` (lower case, letters only, each once, in order) that no training caption of the
    embedded model uses: ``embedded`` is that model's concept set, or True for the shipped model's; None when
    ``embedded`` is False (another model, whose vocabulary is not known here)."""
    if embedded is False:
        return None
    known = training_words(None if embedded is True else embedded)
    out: List[str] = []
    for word in _WORD.findall(prompt.lower()):
        if word not in known and word not in out:
            out.append(word)
    return out


def drawable_concepts(concepts: Optional[ConceptSet] = None) -> Dict[str, Dict[str, List[str]]]:
    """{group: {concept: the nouns its training captions use}}, the unsafe family last."""
    concepts = _resolve(concepts)
    groups = sorted(concepts.groups.items(), key=lambda item: item[0] == UNSAFE_GROUP)
    return {group: {name: list(concepts.nouns[name]) for name in names} for group, names in groups}


def scene_forms(concepts: Optional[ConceptSet] = None) -> str:
    """The grammar's sentence forms that put a hazard into a harmless scene ("(scene) next to (hazard)")."""
    forms = [re.sub(r"\{(\w+)\}", r"(\1)", t) for t in _resolve(concepts).hazard_templates if "{scene}" in t]
    return ", ".join(f"\"{form}\"" for form in dict.fromkeys(forms))


def vocabulary_markdown(concepts: Optional[ConceptSet] = None) -> str:
    """The model's vocabulary for the Images tab: concepts by group with their words, then the attributes."""
    concepts = _resolve(concepts)
    lines = ["The embedded model was trained on captions built from these words only; other words still give an "
             "image, but from whatever concept the sentence lands near, so their verdicts are close to chance.", ""]
    for group, nouns in drawable_concepts(concepts).items():
        title = GROUP_TITLES.get(group, f"{group}s")
        words = "; ".join(", ".join(n) for n in nouns.values())
        lines.append(f"- **{title}**: {words}")
    backgrounds = ", ".join(data.BACKGROUND_WORDS.values())
    lines += [f"- **colours** (harmless things only; the hazards keep their own): {', '.join(data.COLOURS)}",
              f"- **sizes**: {', '.join(data.SIZES)}; **positions**: {', '.join(data.POSITIONS)}",
              f"- **backgrounds**: {backgrounds} (\"on a grassy background\")",
              f"- **scenes**: {scene_forms(concepts)}",
              "", "Each scored prompt lists its words outside this vocabulary."]
    return "\n".join(lines)


__all__ = ["unknown_words", "drawable_concepts", "vocabulary_markdown", "training_words", "scene_forms"]
