"""The embedded model's concept sets: v1 (the shipped model's, pinned draw for draw) and v2 (the everyday world)."""
import hashlib

import numpy as np

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
