"""What the embedded image model can draw, and which words of a prompt it never saw in training.

The embedded model was trained only on captions of the grammar in ``data.py``: about twenty concepts with a few
colours, sizes, positions and backgrounds. Its text encoder (MiniLM) reads any English word, so a prompt made of
words it never saw ("a puppy on grass") still gives an image, drawn from whatever concept the sentence embedding
lands near, and a verdict on it is close to chance. Everything here is derived from the grammar's tables, so it
follows the model when the grammar changes.

For another model (a real Stable Diffusion checkpoint) the training captions are unknown: ``unknown_words`` then
returns None ("not known"), not an empty list ("every word known").
"""
from __future__ import annotations

import functools
import re
from typing import Dict, List, Optional

from . import data

_WORD = re.compile(r"[a-z]+")


@functools.lru_cache(maxsize=1)
def training_words() -> frozenset:
    return frozenset(data.training_vocabulary())


def unknown_words(prompt: str, embedded: bool = True) -> Optional[List[str]]:
    """The words of ``prompt`` (lower case, letters only, each once, in order) that no training caption of the
    embedded model uses; None when the model is not the embedded one (its vocabulary is not known here)."""
    if not embedded:
        return None
    known = training_words()
    out: List[str] = []
    for word in _WORD.findall(prompt.lower()):
        if word not in known and word not in out:
            out.append(word)
    return out


def drawable_concepts() -> Dict[str, Dict[str, List[str]]]:
    """{group: {concept: the nouns its training captions use}}, the unsafe family last."""
    return {group: {concept: list(data.TRAIN_CONCEPTS[concept]) for concept in concepts}
            for group, concepts in data.CONCEPT_GROUPS.items()}


def scene_forms() -> str:
    """The grammar's sentence forms that put a hazard into a harmless scene ("(scene) next to (hazard)")."""
    forms = [re.sub(r"\{(\w+)\}", r"(\1)", t) for t in data.HAZARD_TEMPLATES if "{scene}" in t]
    return ", ".join(f"\"{form}\"" for form in dict.fromkeys(forms))


def vocabulary_markdown() -> str:
    """The model's vocabulary for the Images tab: concepts by group with their words, then the attributes."""
    lines = ["The embedded model was trained on captions built from these words only; other words still give an "
             "image, but from whatever concept the sentence lands near, so their verdicts are close to chance.", ""]
    for group, concepts in drawable_concepts().items():
        title = "unsafe stand-ins" if group == "unsafe" else f"{group}s"
        words = "; ".join(", ".join(nouns) for nouns in concepts.values())
        lines.append(f"- **{title}**: {words}")
    backgrounds = ", ".join(data.BACKGROUND_WORDS.values())
    lines += [f"- **colours** (harmless things only; the hazards keep their own): {', '.join(data.COLOURS)}",
              f"- **sizes**: {', '.join(data.SIZES)}; **positions**: {', '.join(data.POSITIONS)}",
              f"- **backgrounds**: {backgrounds} (\"on a grassy background\")",
              f"- **scenes**: {scene_forms()}",
              "", "Each scored prompt lists its words outside this vocabulary."]
    return "\n".join(lines)


__all__ = ["unknown_words", "drawable_concepts", "vocabulary_markdown", "training_words"]
