"""The embedded model's concept sets: v1 (the shipped model's, pinned draw for draw) and v2 (the everyday world)."""
import hashlib

import numpy as np
import pytest

from reward_demo.images.embedded import data as D
from reward_demo.images.embedded import drawings


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------- v1 is pinned (the shipped model's training data)

def test_v1_draws_are_pinned():
    """The v1 grammar and drawings give exactly what they gave when the shipped model was trained (values
    computed before the concept sets existed): ``train-embedded`` with its defaults reproduces that model."""
    g = drawings.generate(200, seed=11, unsafe_fraction=0.4)
    assert g["captions"][:10] == [
        "daisy next to flames", "triangle", "a burning fire beside a cat",
        "a drawing of a yellow bird at the top next to a gun", "a fire beside a blue tree on a white background",
        "a drawing of a white fish at the top", "a fish", "flames", "a box", "a burning fire"]
    assert g["concepts"][:10] == ["fire", "triangle", "fire", "gun", "fire", "fish", "fish", "fire", "square", "fire"]
    assert _sha(g["images"].tobytes()) == "7bb95e9b9b02da82231562c8090e0d767f06fdfefded08caa57517fa82d5e431"
    assert _sha("\n".join(g["captions"]).encode()) == \
        "f4434b97140bd1c0d332b1b9ec331bed17d90dc0c234083dc31dc0b7c37a7cf8"
    prompts = D.grammar_prompts(50, 0, 0.5)
    assert prompts[:3] == [("a small blue flower", "safe"), ("disc, sandy background", "safe"),
                           ("a medium cat on the right on a dark background", "safe")]
    assert _sha(repr(prompts).encode()) == "728460c513f5b183f916f3f1d350dc9477c717992be9dda7db65a6b6c17760ce"
    rng = np.random.default_rng(5)  # the classifier's batches
    samples = [drawings.make_sample(rng, 4 / 21) for _ in range(64)]
    assert [s.caption for s in samples[:3]] == ["a dot on a sandy background", "a view of a meadow", "star"]
    assert _sha(np.stack([s.image for s in samples]).tobytes()) == \
        "48e56ecc1dc401f9293e9bb00070790b8fe4bfc671271308a36e1a1c15ba938b"
    rng = np.random.default_rng(9)
    images = np.stack([drawings.render_concept(c, rng) for c in D.TRAIN_CONCEPTS])
    assert _sha(images.tobytes()) == "1c55a05c67d1afab38e0517142fa3a61f3afec2fd4c5d08d40e6735cb18a1082"
    vocabulary = D.training_vocabulary()
    assert len(vocabulary) == 81 and {"donut", "sailboat", "splatter", "grassy"} <= vocabulary
    assert _sha(" ".join(sorted(vocabulary)).encode()) == \
        "aebb2f642032e2cf8613ddcceb82bb434f66dfb2ed73cdd58ea8f42eaa12c76f"


# ---------------------------------------------------------------- the v2 written prompts (sealed)

def test_v2_written_prompts_are_counted_balanced_and_new():
    """Counts per split, about half unsafe, every hazard kind and harmless group in every split, labels that match
    their family, no safe prompt naming a hazard, and no prompt equal to a training caption (v1 or v2 grammar),
    to another prompt of the file or to any prompt written in prompts.py."""
    import csv
    import re

    from reward_demo.images import prompts as P
    from reward_demo.images.embedded.concepts import concept_set

    v2 = concept_set("v2")
    rows = P.v2_prompt_rows()
    assert {r["split"] for r in rows} == set(P.V2_SPLITS)
    harmless_groups = {g for g in v2.groups if g != "unsafe"}
    for split, n in (("validation", 80), ("calibration", 40), ("test", 160)):
        part = P.v2_prompt_rows(split)
        assert len(part) == n and len(P.v2_prompts(split)) == n
        unsafe = [r for r in part if r["label"] == D.UNSAFE]
        assert 0.4 <= len(unsafe) / n <= 0.6, split
        assert {r["label"] for r in part} == {D.SAFE, D.UNSAFE}
        assert {r["family"] for r in unsafe} == set(v2.unsafe), split  # every hazard kind
        assert {r["family"] for r in part if r["label"] == D.SAFE} == harmless_groups, split  # every harmless group
        vocabulary = v2.training_vocabulary()
        novel = [r for r in part if any(w not in vocabulary for w in re.findall(r"[a-z]+", r["prompt"].lower()))]
        assert len(novel) >= 0.75 * n, split  # mostly words outside the training captions
    hazard_nouns = [n for c in v2.unsafe for n in v2.nouns[c]]
    for r in rows:
        assert r["prompt"] == r["prompt"].strip() and r["prompt"], r
        if r["label"] == D.SAFE:
            assert not any(re.search(rf"\b{n}\b", r["prompt"].lower()) for n in hazard_nouns), r["prompt"]
    lowered = [r["prompt"].lower() for r in rows]
    assert len(set(lowered)) == len(lowered)
    patterns = [D.caption_pattern(concept_set(name)) for name in ("v1", "v2")]
    assert not [p for p in lowered if any(pattern.fullmatch(p) for pattern in patterns)]
    written = {p for p, _ in P.EVAL_PROMPTS + P.CALIBRATION_PROMPTS + P.AUROC_PROMPTS}
    written |= {item.prompt for item in P.EXAMPLE_PROMPTS} | set(P.PARAPHRASES) | set(P.SCENES)
    with open(P.SELECTION_PROMPTS_CSV, newline="") as f:
        written |= {row["prompt"] for row in csv.DictReader(f)}
    assert not set(lowered) & {w.lower() for w in written}
    with pytest.raises(ValueError, match="unknown split"):
        P.v2_prompts("train")


def test_caption_pattern_accepts_exactly_the_grammar():
    from reward_demo.images.embedded.concepts import concept_set

    for name in ("v1", "v2"):
        concepts = concept_set(name)
        pattern = D.caption_pattern(concepts)
        captions = [c for c, _ in D.grammar_prompts(400, 3, 0.5, concepts)]
        assert all(pattern.fullmatch(c) for c in captions)
        for prompt in ("a puppy on grass", "a house on fire", "a small blue cat on the left on a grassy background"):
            assert not pattern.fullmatch(prompt), prompt
