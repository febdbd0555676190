"""The Images domain's pure parts behind the tab: verdicts with an uncertain band (and how its half-width is
chosen), agreement with labels, the embedded model's vocabulary and a prompt's unknown words, the run settings'
checks, and the scoring queue that batches concurrent requests (on a fake scorer: no model)."""
import threading
import time

import numpy as np
import pytest

from reward_demo.images import inputs, verdicts
from reward_demo.images.batching import ScoringQueue, describe_status
from reward_demo.images.embedded import vocabulary
from reward_demo.images.inputs import PromptItem


# ------------------------------------------------------------------ verdicts
def test_verdict_band_edges():
    assert verdicts.verdict(1.0, 1.0) == "safe" and verdicts.verdict(0.999, 1.0) == "unsafe"  # no band: as before
    assert verdicts.verdict(1.2, 1.0, 0.2) == "safe"
    assert verdicts.verdict(1.19, 1.0, 0.2) == "uncertain" and verdicts.verdict(0.8, 1.0, 0.2) == "uncertain"
    assert verdicts.verdict(0.79, 1.0, 0.2) == "unsafe"


def test_half_width_is_the_smallest_reaching_the_target():
    # safe images at 0.5, 0.9, 1.5, 2; unsafe at -2, -1, 0.1, 1.1: threshold 0 misjudges 0.1 (unsafe, above)
    safe, unsafe = [0.5, 0.9, 1.5, 2.0], [-2.0, -1.0, 0.1, 1.1]
    band = verdicts.choose_half_width(safe, unsafe, 0.0, target=0.9, max_uncertain=0.5)
    # h <= 0.1: 0.1 and 1.1 are wrong (accuracy 0.75); h = 0.101 drops 0.1 only: 1.1 still wrong -> 4/4 safe,
    # 2/3 unsafe = 0.833; h = 1.101 would drop 1.1 but also 0.5 and 0.9 and -1: 5 of 8 uncertain > 0.5
    assert band["met"] is False and band["half_width"] == pytest.approx(0.101)
    assert band["balanced_accuracy"] == pytest.approx(0.5 * (1 + 2 / 3)) and band["uncertain_fraction"] == 1 / 8
    # a looser limit lets the band grow until the last wrong image is inside it
    wide = verdicts.choose_half_width(safe, unsafe, 0.0, target=0.9, max_uncertain=0.75)
    assert wide["met"] is True and wide["half_width"] == pytest.approx(1.101) and wide["balanced_accuracy"] == 1.0
    # already right everywhere: no band
    assert verdicts.choose_half_width([1, 2], [-1, -2], 0.0)["half_width"] == 0.0
    with pytest.raises(ValueError, match="safe and of unsafe"):
        verdicts.choose_half_width([], [1.0], 0.0)


def test_half_width_rule_matches_its_definition_on_random_rewards():
    rng = np.random.default_rng(0)
    safe, unsafe = rng.normal(0.3, 0.5, 40), rng.normal(-0.3, 0.5, 40)
    band = verdicts.choose_half_width(safe, unsafe, 0.0)
    h = band["half_width"]
    accuracy, uncertain = verdicts.decided_balanced_accuracy(safe, unsafe, 0.0, h)
    assert (accuracy, uncertain) == (band["balanced_accuracy"], band["uncertain_fraction"])
    assert uncertain <= verdicts.MAX_UNCERTAIN_FRACTION
    if band["met"]:  # no smaller multiple of the step meets the rule
        smaller = verdicts.decided_balanced_accuracy(safe, unsafe, 0.0, round(h - verdicts.HALF_WIDTH_STEP, 6))
        assert h == 0 or smaller[0] < verdicts.TARGET_BALANCED_ACCURACY


def test_label_agreement_counts_uncertain_apart():
    agreement = verdicts.label_agreement(["safe", "Unsafe", "unsafe", None, "cat", "harmless"],
                                         ["safe", "unsafe", "uncertain", "safe", "safe", "unsafe"])
    assert agreement == {"n_labelled": 4, "n_agree": 2, "n_uncertain": 1, "balanced_accuracy": 0.5 * (0.5 + 1.0)}
    text = verdicts.agreement_text(agreement)
    assert text.startswith("labels given for 4 prompts: the base image's verdict agrees on 2, uncertain on 1")
    assert "balanced accuracy 0.75 on the 3 it decided" in text
    assert verdicts.label_agreement([None, "x"], ["safe", "safe"]) is None and verdicts.agreement_text(None) == ""


# ------------------------------------------------------------------ vocabulary
def test_unknown_words_are_those_no_training_caption_uses():
    assert vocabulary.unknown_words("a puppy on grass") == ["puppy", "grass"]
    assert vocabulary.unknown_words("A Gun on a grassy background, the gun!") == []
    assert vocabulary.unknown_words("a puppy", embedded=False) is None  # another model: not known
    markdown = vocabulary.vocabulary_markdown()
    for noun in ("cat", "sailboat", "snowy peaks", "pistol", "pool of blood", "teal", "grassy"):
        assert noun in markdown
    assert "puppy" not in markdown and "<" not in markdown  # no raw HTML for the Markdown component


# ------------------------------------------------------------------ run settings
@pytest.mark.parametrize(
    "check,value,message",
    [
        (lambda v: inputs.check_seed(v), "abc", "Seed: must be a whole number from 0 to 4294967295, got 'abc'"),
        (lambda v: inputs.check_seed(v), -1, "Seed: must be a whole number from 0 to 4294967295, got -1"),
        (lambda v: inputs.check_seed(v), True, "Seed: must be a whole number"),
        (lambda v: inputs.check_steps(v, 2, 100), 101, "Denoising steps: must be a whole number from 2 to 100"),
        (
            lambda v: inputs.check_steps(v, 2, 100),
            "",
            "Denoising steps: must be a whole number from 2 to 100, got ''",
        ),
        (
            lambda v: inputs.check_preset(v, ("weak", "max")),
            "atlantis",
            "Safety guidance preset (SLD): 'atlantis' is not a preset; choose one of weak, max",
        ),
        (
            lambda v: inputs.check_preset(v, ("weak", "max")),
            "max: warmup=5",
            "Safety guidance preset (SLD): SLD setting 'warmup=5' must be KEY=VALUE with KEY one of",
        ),
        (
            lambda v: inputs.check_preset(v, ("weak", "max")),
            "max: warmup_steps=2.5",
            "Safety guidance preset (SLD): SLD setting 'warmup_steps=2.5': warmup_steps must be a non-negative whole",
        ),
        (lambda v: inputs.check_threshold(v, -7, -1), 0, "Threshold: must be a number from -7 to -1, got 0"),
        (lambda v: inputs.check_threshold(v, -7, -1), "inf", "Threshold: must be a number from -7 to -1"),
    ],
)
def test_run_settings_name_the_input_and_what_is_allowed(check, value, message):
    with pytest.raises(ValueError) as info:
        check(value)
    assert str(info.value).startswith(message)


def test_run_settings_accept_numbers_as_text():
    assert inputs.check_seed(" 7 ") == 7 and inputs.check_seed(3.0) == 3
    assert inputs.check_steps("10", 2, 100) == 10 and inputs.check_preset(" MAX ", ("max",)) == "max"
    assert inputs.check_threshold("-4.5", -7, -1) == -4.5


def test_a_preset_may_carry_sld_settings():
    from reward_demo.images.models import safety_preset

    checked = inputs.check_preset(" MAX :warmup_steps = 5,, momentum_scale=0 ", ("weak", "max"))
    assert checked == "max: warmup_steps = 5, momentum_scale=0"
    sld = safety_preset(checked)
    assert sld["sld_warmup_steps"] == 5 and sld["sld_momentum_scale"] == 0
    assert {k: v for k, v in sld.items() if k not in ("sld_warmup_steps", "sld_momentum_scale")} == {
        k: v for k, v in safety_preset("max").items() if k not in ("sld_warmup_steps", "sld_momentum_scale")}
    assert inputs.check_preset("weak:", ("weak", "max")) == "weak"


# ------------------------------------------------------------------ the scoring queue (a fake scorer)
class FakeScorer:
    """score_items' interface: a prompt's reward is a function of the prompt and its seed only; each call takes
    a fixed time plus a little per prompt, and is recorded."""

    def __init__(self, seconds=0.2, per_prompt=0.01, fail_on=None):
        self.calls, self.seconds, self.per_prompt, self.fail_on = [], seconds, per_prompt, fail_on
        self.started = threading.Event()

    def __call__(self, items, seeds, n_steps, preset, guidance_scale, model, progress, batch_size):
        self.calls.append({"prompts": [i.prompt for i in items], "seeds": list(seeds), "n_steps": n_steps})
        self.started.set()
        if self.fail_on and any(i.prompt == self.fail_on for i in items):
            raise ValueError("the model is broken")
        for k in range(4):
            time.sleep((self.seconds + self.per_prompt * len(items)) / 4)
            progress(k + 1, 4)
        rows = [{"prompt": i.prompt, "base_reward": len(i.prompt) + 0.001 * s} for i, s in zip(items, seeds)]
        return {"settings": {"seed": None, "n_steps": n_steps, "preset": preset}, "seconds": 0.2, "rows": rows}


def submit_while_busy(queue, scorer, requests, n_steps=5):
    """Occupy the worker with a first request, then submit ``requests`` [(prompts, seed)] while it runs."""
    first = queue.submit([PromptItem("warm up")], seed=0, n_steps=n_steps, preset="max", guidance_scale=7.5)
    assert scorer.started.wait(5)
    jobs = [
        queue.submit([PromptItem(p) for p in prompts], seed=seed, n_steps=n_steps, preset="max", guidance_scale=7.5)
        for prompts, seed in requests
    ]
    return first, jobs


def test_requests_waiting_together_share_one_batch_and_keep_their_seeds():
    scorer = FakeScorer()
    queue = ScoringQueue(scorer, max_prompts=8)
    first, jobs = submit_while_busy(queue, scorer, [(["a cat", "a gun"], 1), (["a boat"], 2), (["fire"], 3)])
    status = queue.status(jobs[2])
    assert status["state"] == "waiting" and status["ahead"] == 1 and status["eta_s"] > 0
    assert describe_status(status, 1).startswith("waiting for the model: 1 request ahead; done in")
    results = [queue.wait(job) for job in jobs]
    queue.wait(first)
    assert scorer.calls[1] == {"prompts": ["a cat", "a gun", "a boat", "fire"], "seeds": [1, 1, 2, 3], "n_steps": 5}
    assert len(scorer.calls) == 2  # the three waiting requests ran as one batch
    for result, (prompts, seed) in zip(results, [(["a cat", "a gun"], 1), (["a boat"], 2), (["fire"], 3)]):
        assert [r["prompt"] for r in result["rows"]] == prompts and result["settings"]["seed"] == seed
        assert [r["base_reward"] for r in result["rows"]] == [len(p) + 0.001 * seed for p in prompts]
        assert result["batched_with"] == 2 and result["waited_s"] > 0.1


def test_other_settings_and_full_batches_wait_for_the_next_call():
    scorer = FakeScorer(seconds=0.05)
    queue = ScoringQueue(scorer, max_prompts=3)
    first, jobs = submit_while_busy(queue, scorer, [(["a", "b"], 0), (["c"], 0), (["d", "e"], 0), (["f"], 0)])
    other = queue.submit([PromptItem("g")], seed=0, n_steps=9, preset="max", guidance_scale=7.5)
    for job in [first, *jobs, other]:
        queue.wait(job)
    # oldest first; a batch takes the later requests with its settings that still fit
    assert [c["prompts"] for c in scorer.calls[1:]] == [["a", "b", "c"], ["d", "e", "f"], ["g"]]
    assert scorer.calls[-1]["n_steps"] == 9


def test_without_batching_every_request_runs_alone():
    scorer = FakeScorer(seconds=0.05)
    queue = ScoringQueue(scorer, batching=False)
    first, jobs = submit_while_busy(queue, scorer, [(["a"], 0), (["b"], 1)])
    for job in [first, *jobs]:
        queue.wait(job)
    assert [c["prompts"] for c in scorer.calls] == [["warm up"], ["a"], ["b"]]


def test_a_failing_batch_reports_its_error_to_each_request_and_the_queue_goes_on():
    scorer = FakeScorer(seconds=0.05, fail_on="boom")
    queue = ScoringQueue(scorer)
    first, jobs = submit_while_busy(queue, scorer, [(["boom"], 0), (["fine"], 0)])
    queue.wait(first)
    for job in jobs:
        with pytest.raises(ValueError, match="the model is broken"):
            queue.wait(job)
    assert queue.score([PromptItem("after")], seed=0, n_steps=5, preset="max", guidance_scale=7.5)["rows"]


def test_wait_reports_progress_while_running():
    scorer = FakeScorer(seconds=0.4)
    queue = ScoringQueue(scorer)
    reports = []
    job = queue.submit([PromptItem("x")], seed=0, n_steps=5, preset="max", guidance_scale=7.5)
    queue.wait(job, reports.append, every_s=0.05)
    running = [r for r in reports if r["state"] == "running"]
    assert running and running[-1]["fraction"] >= running[0]["fraction"]
    assert describe_status(running[0], 1).startswith("scoring 1 prompt;")
