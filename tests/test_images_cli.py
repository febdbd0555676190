"""The Images domain's commands on tiny pipelines (record, train-reward, score with its per-prompt notes, compare-
rewards, evaluate, calibrate-threshold with its uncertain band), and the scoring queue's batches scoring each
request as if it ran alone."""
import json

import numpy as np
import pytest

from images_support import LABELS, PROMPTS, tiny_pipes, tiny_record, tiny_reward, tiny_sd_folder  # noqa: F401


def _cli(*args):
    """Run ``python -m reward_demo images ...`` in this process (same code path as the console entry point)."""
    from reward_demo.cli import main

    return main(["images", *args])


def test_cli_record_train_score(tiny_sd_folder, tmp_path, capsys):
    prompts = tmp_path / "prompts.csv"
    prompts.write_text("prompt,label\n" + "\n".join(f"{p},{lab}" for p, lab in zip(PROMPTS[:5], LABELS[:5])) + "\n")
    data, reward = tmp_path / "chains", tmp_path / "reward"
    run = _cli("record", "--model", str(tiny_sd_folder), "--prompts", str(prompts), "--out", str(data),
               "--n-steps", "4", "--shard-size", "2", "--no-progress")
    assert run == 0, capsys.readouterr().err
    assert len(list(data.glob("shard_*.safetensors"))) == 3
    run = _cli("train-reward", "--data", str(data), "--out", str(reward), "--steps", "20", "--dim", "8",
               "--dim-mults", "1", "2", "--eval-every", "10", "--no-progress", "--cpu")
    assert run == 0, capsys.readouterr().err
    assert (reward / "model.safetensors").is_file() and (reward / "split.json").is_file()
    out = tmp_path / "scores.json"
    run = _cli("score", "--prompts", str(prompts), "--model", str(tiny_sd_folder), "--reward", str(reward), "--json",
               str(out), "--n-steps", "4")
    assert run == 0, capsys.readouterr().err
    scored = json.loads(out.read_text())
    scores = scored["scores"]
    assert [s["prompt"] for s in scores] == PROMPTS[:5] and scores[0]["base_verdict"] in ("safe", "unsafe")
    assert scored["uncertain_half_width"] == 0.0  # this reward is not calibrated yet: no band
    # this project's chain score: the mean reward along the SD chain, no verdict before its calibration
    assert all(s["base_chain_score"] == pytest.approx(np.mean(s["base_chain_rewards"])) for s in scores)
    assert scored["chain_threshold"] is None and all(s["base_chain_verdict"] is None for s in scores)
    # per prompt: what the text encoder cut, and the words the model does not know (not known for this model)
    assert all(s["unknown_words"] is None and isinstance(s["truncated"], bool) for s in scores)
    assert [s["truncated"] for s in scores] == [s["n_tokens"] > s["token_limit"] for s in scores]
    bad = _cli("score", "--prompts", str(prompts), "--model", str(tiny_sd_folder), "--reward", str(reward), "--json",
               str(out), "--preset", "extreme")
    assert bad == 2 and "unknown safety preset" in capsys.readouterr().err
    # comparing rewards scores each only on the prompts it was not trained on
    compared = tmp_path / "compared.json"
    run = _cli("compare-rewards", "--rewards", str(reward), "--data", str(data), "--model", str(tiny_sd_folder),
               "--json", str(compared))
    assert run == 0, capsys.readouterr().err
    entry = json.loads(compared.read_text())["rewards"][0]
    trained_on = set(json.loads((reward / "split.json").read_text())["train_prompts"])
    assert entry["n_unseen_prompts"] == len(set(PROMPTS[:5]) - trained_on) > 0
    assert 0.0 <= entry["a_pair_balanced_accuracy"] <= 1.0 and entry["n"] == entry["n_unseen_prompts"]
    assert _cli("compare-rewards", "--rewards", "--data", str(data)) == 2
    assert "at least one reward" in capsys.readouterr().err
    # the held-out evaluation: every written prompt, figures with intervals for all and for each batch
    from reward_demo.images.prompts import EVAL_PROMPT_BATCHES, EVAL_PROMPTS

    report_path, figure = tmp_path / "eval.json", tmp_path / "eval.png"
    run = _cli("evaluate", "--model", str(tiny_sd_folder), "--reward", str(reward), "--data", str(data),
               "--n-seeds", "1", "--n-steps", "2", "--batch-size", "32", "--json", str(report_path),
               "--figure", str(figure))
    captured = capsys.readouterr()
    assert run == 0, captured.err
    assert (
        "written prompts: 100%" in captured.err
        and f"{len(EVAL_PROMPTS) * 2 * 2}/{len(EVAL_PROMPTS) * 2 * 2}" in captured.err
    )
    report = json.loads(report_path.read_text())
    assert report["prompt_set"] == "v1/evaluation" and report["prompt_set_size"] == len(EVAL_PROMPTS)
    novel = report["heldout_novel_prompts"]
    assert novel["n"] == len(EVAL_PROMPTS) and len(report["rows"]) == len(EVAL_PROMPTS) and figure.stat().st_size > 0
    assert set(novel["batches"]) == {name for name, _ in EVAL_PROMPT_BATCHES}
    assert [b["n"] for b in novel["batches"].values()] == [n for _, n in EVAL_PROMPT_BATCHES]
    for part in [novel, *novel["batches"].values()]:
        low, high = part["ci95"]["b_prompt_auroc"]
        assert low <= part["b_prompt_auroc"] <= high
    assert "first batch of novel prompts" in captured.out
    # the chain score on the recorded held-out prompts too, from their recorded SD chains
    recorded_chain = report["heldout_recorded_prompts"]["chain_score"]
    assert set(recorded_chain) >= {"b_prompt_auroc", "ci95", "a_pairwise_accuracy"}
    # the verdict threshold, calibrated on the written calibration prompts; the training prompts' one is kept
    from reward_demo.images.prompts import CALIBRATION_PROMPTS

    before = json.loads((reward / "config.json").read_text())["metadata"]
    calibrate = ("calibrate-threshold", "--model", str(tiny_sd_folder), "--reward", str(reward))
    run = _cli(*calibrate, "--n-seeds", "1", "--n-steps", "2", "--batch-size", "40")
    assert run == 0, capsys.readouterr().err
    after = json.loads((reward / "config.json").read_text())["metadata"]
    calibration = after["threshold_calibration"]
    assert after["threshold_training_prompts"] == before["threshold"]
    assert calibration["n_prompts"] == len(CALIBRATION_PROMPTS) and calibration["prompt_set"] == "v1/calibration"
    assert calibration["prompts"] == "reward_demo.images.calibration.CALIBRATION_PROMPTS"
    assert calibration["balanced_accuracy"] >= calibration["balanced_accuracy_training_threshold"]
    from reward_demo.images.models import chain_verdict_rule, reward_half_width, reward_threshold
    from reward_demo.images.verdicts import choose_half_width
    from reward_demo.metrics import auroc, best_threshold

    assert reward_threshold(str(reward)) == after["threshold"]
    # the uncertain band, chosen on the same calibration images by the stated rule, stored beside the threshold
    band, rewards = calibration["uncertain_band"], np.array(calibration["rewards"])
    labels = np.array([lab for _, lab in CALIBRATION_PROMPTS])
    assert len(rewards) == len(CALIBRATION_PROMPTS) and reward_half_width(str(reward)) == after["uncertain_half_width"]
    expected = choose_half_width(rewards[labels == "safe"], rewards[labels == "unsafe"], after["threshold"], 0.9, 0.5)
    assert band == expected and after["uncertain_half_width"] == expected["half_width"]
    # the command recomputes threshold and band from the stored rewards, under another rule's limits
    run = _cli(*calibrate, "--reuse-rewards", "--max-uncertain", "0.2", "--target-accuracy", "0.99")
    assert run == 0, capsys.readouterr().err
    again = json.loads((reward / "config.json").read_text())["metadata"]
    assert again["threshold"] == after["threshold"]
    assert again["threshold_calibration"]["rewards"] == calibration["rewards"]
    assert again["threshold_calibration"]["uncertain_band"] == choose_half_width(
        rewards[labels == "safe"], rewards[labels == "unsafe"], after["threshold"], 0.99, 0.2
    )
    assert "uncertain band: +-" in capsys.readouterr().out
    # the chain score's threshold and band, by the same rules on the same images, recomputed from the stored scores
    chain = again["chain_score"]
    scores = np.array(chain["calibration"]["scores"])
    assert chain["threshold"] == after["chain_score"]["threshold"] and scores.tolist() == \
        after["chain_score"]["calibration"]["scores"]
    assert chain["threshold"] == best_threshold(scores[labels == "safe"], scores[labels == "unsafe"])
    assert chain["calibration"]["uncertain_band"] == choose_half_width(
        scores[labels == "safe"], scores[labels == "unsafe"], chain["threshold"], 0.99, 0.2)
    assert chain_verdict_rule(str(reward)) == (chain["threshold"], chain["uncertain_half_width"])
    # other training seeds of the recipe, scored on the same written prompts: each seed's figures and their mean
    # (here the same reward twice, so both rows and the mean must agree), the verdict judged outside its band
    run = _cli("evaluate", "--model", str(tiny_sd_folder), "--reward", str(reward), "--seed-rewards", str(reward),
               "--n-seeds", "1", "--n-steps", "2", "--batch-size", "32", "--json", str(report_path),
               "--figure", str(figure), "--no-progress")
    assert run == 0, capsys.readouterr().err
    report = json.loads(report_path.read_text())
    first, second = report["training_seeds"]
    assert first == second and first["half_width"] == again["uncertain_half_width"]
    assert report["seed_mean"]["b_prompt_auroc"] == pytest.approx(first["b_prompt_auroc"], abs=1e-4)
    assert report["heldout_novel_prompts"]["half_width"] == again["uncertain_half_width"]
    # the chain score beside the paper's figures: from each image's chain, for every seed's reward, and their mean
    rows = report["rows"]
    assert all(r["base_chain_score"] == pytest.approx(np.mean(r["base_chain_rewards"]), abs=2e-4) for r in rows)
    chain_report = report["chain_score"]
    assert chain_report["b_prompt_auroc"] == pytest.approx(auroc(
        [r["base_chain_score"] for r in rows if r["label"] == "safe"],
        [r["base_chain_score"] for r in rows if r["label"] == "unsafe"]), abs=1e-3)
    assert chain_report["threshold"] == chain["threshold"]
    assert first["chain_score"]["b_prompt_auroc"] == pytest.approx(chain_report["b_prompt_auroc"], abs=1e-4)
    assert report["seed_mean"]["chain_score"]["b_prompt_auroc"] == pytest.approx(
        chain_report["b_prompt_auroc"], abs=1e-4)
    assert set(report["targets_met"]) == {"a_pair_balanced_accuracy", "b_prompt_auroc"}  # v1 prompts: v1 targets
    assert _cli("calibrate-threshold", "--reward", str(reward), "--model", str(tiny_sd_folder), "--n-seeds", "0") == 2
    assert "n_seeds must be in 1..16" in capsys.readouterr().err


def test_written_prompts_follow_the_model_and_split_errors(tmp_path, capsys):
    """evaluate and calibrate-threshold take the written prompts of the model's concept set: v1's for a v1 folder and
    for a Stable Diffusion model, whose set is unknown; the test, validation and calibration splits of v2 for a v2
    folder and for the shipped (v2) model. ``--split`` accepts test and validation only, and validation is an
    error for v1."""
    from reward_demo.images import prompts as P
    from reward_demo.images.calibration import calibration_prompt_set
    from reward_demo.images.evaluate import evaluation_prompt_set

    v1_folder, v2_folder = tmp_path / "embedded_v1", tmp_path / "embedded_v2"
    for folder, record in ((v1_folder, {}), (v2_folder, {"concept_set": "v2"})):
        folder.mkdir()
        (folder / "reward_demo.json").write_text(json.dumps(record))  # no record: a v1 folder
    for model in (str(v1_folder), "someone/sd-model"):
        assert list(evaluation_prompt_set(model).prompts) == P.EVAL_PROMPTS
        assert evaluation_prompt_set(model).batches == P.EVAL_PROMPT_BATCHES
        assert calibration_prompt_set(model).name == "v1/calibration"
        with pytest.raises(ValueError, match="--split validation is not available .*use --split test"):
            evaluation_prompt_set(model, "validation")
    for model in (str(v2_folder), None):
        assert evaluation_prompt_set(model).name == "v2/test"
        assert list(evaluation_prompt_set(model).prompts) == P.v2_prompts("test")
        assert list(evaluation_prompt_set(model, "validation").prompts) == P.v2_prompts("validation")
        assert list(calibration_prompt_set(model).prompts) == P.v2_prompts("calibration")
    # the command line: validation on a v1 model stops before anything is loaded; an unknown split is refused
    assert _cli("evaluate", "--model", "someone/sd-model", "--split", "validation") == 2
    assert "--split validation is not available for this model" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        _cli("evaluate", "--split", "calibration")
    assert stop.value.code == 2 and "calibration" in capsys.readouterr().err
    # stored calibration rewards of another prompt set are not reused
    reward = tmp_path / "reward"
    reward.mkdir()
    stored = {"rewards": [0.0] * 40, "prompt_set": "v2/calibration", "n_seeds": 1, "n_steps": 2, "preset": "max"}
    (reward / "config.json").write_text(json.dumps({"metadata": {"threshold": 0.0, "threshold_calibration": stored}}))
    assert _cli("calibrate-threshold", "--model", "someone/sd-model", "--reward", str(reward), "--reuse-rewards") == 2
    assert "stores calibration rewards of v2/calibration" in capsys.readouterr().err


def test_batched_requests_score_as_if_each_ran_alone(tiny_sd_folder, tiny_reward, monkeypatch):
    """The scoring queue runs requests that wait together as one batch, each with its own seed: every request's
    rewards and images are those it gets alone (each x_T has its own generator; the long prompt gets its own
    pipeline call inside the batch)."""
    import threading
    import time

    from reward_demo.images.batching import ScoringQueue
    from reward_demo.images.demo import score_items
    from reward_demo.images.inputs import PromptItem
    from reward_demo.images.models import REWARD_ENV

    monkeypatch.setenv(REWARD_ENV, str(tiny_reward[0]))
    settings = {"n_steps": 3, "preset": "max", "guidance_scale": 7.5, "model": str(tiny_sd_folder)}
    requests = [(["a knife", "a cat"], 3), (["a cat"], 7), (["a knife next to a cat on a lawn"], 3), (["fire"], 0)]
    alone = [score_items([PromptItem(p) for p in prompts], seed=seed, **settings) for prompts, seed in requests]

    gate, calls = threading.Event(), []

    def gated(items, **kwargs):
        gate.wait(30)
        calls.append([item.prompt for item in items])
        return score_items(items, **kwargs)

    queue = ScoringQueue(gated)
    first = queue.submit([PromptItem("warm up")], seed=1, **settings)  # holds the worker while the others arrive
    for _ in range(300):
        if first.state == "running":
            break
        time.sleep(0.01)
    jobs = [queue.submit([PromptItem(p) for p in prompts], seed=seed, **settings) for prompts, seed in requests]
    gate.set()
    together = [queue.wait(job) for job in jobs]
    queue.wait(first)
    assert calls == [["warm up"], [p for prompts, _ in requests for p in prompts]]  # one batch of four requests
    for solo, batched in zip(alone, together):
        assert batched["settings"]["seed"] == solo["settings"]["seed"] and batched["batched_with"] == 3
        for a, b in zip(solo["rows"], batched["rows"]):
            assert b["prompt"] == a["prompt"] and b["truncated"] == a["truncated"]
            assert b["base_reward"] == pytest.approx(a["base_reward"], abs=1e-5)
            assert b["safe_reward"] == pytest.approx(a["safe_reward"], abs=1e-5)
            difference = np.abs(np.asarray(a["base_image"], float) - np.asarray(b["base_image"], float))
            assert difference.max() <= 1  # at most one grey level of rounding
    assert together[2]["rows"][0]["truncated"] and not together[1]["rows"][0]["truncated"]
    assert together[1]["rows"][0]["base_reward"] != pytest.approx(together[0]["rows"][1]["base_reward"], abs=1e-3)


def test_reward_path_imports_no_embedded_module():
    """The reward path works on any Stable Diffusion 1.x pipeline: importing its modules loads nothing of the
    embedded stand-in model (models.py loads it on demand, only when it is the model in use)."""
    import subprocess
    import sys

    modules = ("data models reward train inference evaluate compare evidence figures verdicts calibration demo "
               "batching inputs prompts").split()
    code = ("import importlib, sys\n"
            f"for m in {modules!r}: importlib.import_module('reward_demo.images.' + m)\n"
            "print(sorted(m for m in sys.modules if m.startswith('reward_demo.images.embedded')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
