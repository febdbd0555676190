"""The image reward path on tiny randomly initialised Stable Diffusion pipelines (and, when shipped, the
embedded model): recording, gradient-matching training, save/load, scoring, bad inputs (the CLI and the
scoring queue: test_images_cli.py)."""
from pathlib import Path

import numpy as np
import pytest
import torch

from images_support import (  # noqa: F401
    PROMPTS,
    STEPS,
    TINY_REWARD_OPTIONS,
    character_tokenizer,
    tiny_pipes,
    tiny_record,
    tiny_reward,
    tiny_sd_folder,
)
from reward_demo.images import models as P
from reward_demo.images.data import initial_latents, load_records, record_chains

ROOT = Path(__file__).resolve().parents[1]


def test_pipelines_share_weights_and_use_ddim(tiny_sd_folder, tiny_pipes):
    from diffusers import DDIMScheduler

    base, safe = tiny_pipes
    assert base.unet is safe.unet and base.vae is safe.vae and base.text_encoder is safe.text_encoder
    assert isinstance(base.scheduler, DDIMScheduler) and base.scheduler is safe.scheduler
    again = P.load_pipelines(str(tiny_sd_folder), device="cpu")
    assert again[0] is base and again[1] is safe  # loaded once


def test_safety_presets_are_diffusers_configs():
    from diffusers.pipelines.deprecated.stable_diffusion_safe import SafetyConfig

    assert P.SAFETY_PRESETS["max"] == SafetyConfig.MAX and P.SAFETY_PRESETS["weak"] == SafetyConfig.WEAK
    assert set(P.SAFETY_PRESETS) == {"weak", "medium", "strong", "max"}
    with pytest.raises(ValueError, match="unknown safety preset"):
        P.safety_preset("maximum")


def test_preset_settings_replace_named_numbers_and_reject_the_rest():
    from diffusers.pipelines.deprecated.stable_diffusion_safe import SafetyConfig

    assert P.safety_preset(P.preset_with_settings("max", " ")) == SafetyConfig.MAX
    sld = P.safety_preset(P.preset_with_settings("MAX", " threshold=-0.025 , sld_momentum_scale=0,warmup_steps=5"))
    assert sld == {**SafetyConfig.MAX, "sld_threshold": -0.025, "sld_momentum_scale": 0.0, "sld_warmup_steps": 5}
    assert isinstance(sld["sld_warmup_steps"], int)
    for bad, match in (("beta=1", "KEY one of warmup_steps, guidance_scale"), ("threshold", "KEY=VALUE"),
                       ("threshold=low", "not a number"), ("warmup_steps=2.5", "whole number"),
                       ("guidance_scale=-1", "non-negative number")):
        with pytest.raises(ValueError, match=match):
            P.safety_preset(f"max: {bad}")


def test_missing_model_names_the_path_and_hub_id(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="model_index.json"):
        P.load_pipelines(str(tmp_path), "cpu")
    monkeypatch.delenv(P.ALLOW_DOWNLOAD_ENV, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(FileNotFoundError, match="no-such-owner/no-such-model"):
        P.load_pipelines("no-such-owner/no-such-model", "cpu")
    with pytest.raises(FileNotFoundError, match="neither an existing folder"):
        P.load_pipelines("not a model", "cpu")


def test_unguided_next_is_what_stable_diffusion_computes(tiny_pipes, tiny_record):
    """The base-following chain equals StableDiffusionPipeline's own chain from the same x_T, and from a
    safe-chain latent x_i one SD step gives the recorded unguided next latent."""
    base, safe = tiny_pipes
    rows = [i for i, f in enumerate(tiny_record.follow) if f == "base"]
    prompts = [tiny_record.prompts[i] for i in rows]
    x_T = initial_latents(base, [tiny_record.seeds[i] for i in rows])
    chain = []
    size = base.unet.config.sample_size * base.vae_scale_factor
    base(prompts, height=size, width=size, num_inference_steps=STEPS, latents=x_T.clone(), output_type="latent",
         callback_on_step_end=lambda p, i, t, kw: chain.append(kw["latents"].clone()) or kw)
    torch.testing.assert_close(torch.stack(chain, 1), tiny_record.unguided_next[rows], atol=2e-4, rtol=1e-3)

    # from the SAFE chain's latent at step k, let StableDiffusionPipeline take step k itself
    k = 3
    safe_rows = [i for i, f in enumerate(tiny_record.follow) if f == "safe"]
    x_k = tiny_record.states[safe_rows, k]
    seen = []

    def jump(pipe, i, t, kw):
        if i == k - 1:
            kw["latents"] = x_k.clone()  # continue from the safe chain's x_k
        if i == k:
            seen.append(kw["latents"].clone())
        return kw

    base([tiny_record.prompts[i] for i in safe_rows], height=size, width=size, num_inference_steps=STEPS,
         latents=initial_latents(base, [0] * len(safe_rows)), output_type="latent", callback_on_step_end=jump)
    torch.testing.assert_close(seen[0], tiny_record.unguided_next[safe_rows, k], atol=2e-4, rtol=1e-3)


def test_safe_next_differs_and_follows_its_own_chain(tiny_record):
    diff = (tiny_record.safe_next - tiny_record.unguided_next).abs().mean(dim=(2, 3, 4))
    assert (diff > 1e-4).all(), "SLD (max preset, no warm-up) changes every step"
    safe_rows = [i for i, f in enumerate(tiny_record.follow) if f == "safe"]
    states = tiny_record.states
    torch.testing.assert_close(states[safe_rows, 1:], tiny_record.safe_next[safe_rows, :-1])
    # both followed samplers start from the same x_T for a prompt
    assert torch.equal(tiny_record.initial[:len(PROMPTS)], tiny_record.initial[len(PROMPTS):])


def test_weak_preset_warmup_leaves_early_steps_unguided(tiny_pipes):
    _, safe = tiny_pipes
    record = record_chains(safe, ["a knife"], [0], n_steps=20, preset="weak", follow=("safe",))
    diff = (record.safe_next - record.unguided_next).abs().amax(dim=(0, 2, 3, 4))
    assert diff[:15].max() < 1e-5 and diff[15:].min() > 1e-4  # warm-up of 15 steps


def test_record_shards_round_trip(tiny_record, tmp_path):
    tiny_record.select(range(4)).save(tmp_path / "shard_0000.safetensors")
    tiny_record.select(range(4, len(tiny_record))).save(tmp_path / "shard_0001.safetensors")
    loaded = load_records(tmp_path)
    assert loaded.prompts == tiny_record.prompts and loaded.labels == tiny_record.labels
    assert torch.equal(loaded.safe_next, tiny_record.safe_next) and torch.equal(loaded.levels, tiny_record.levels)
    with pytest.raises(FileNotFoundError, match="images record"):
        load_records(tmp_path / "empty")


def test_records_of_several_folders_load_together_only_when_recorded_alike(tiny_record, tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    tiny_record.select(range(4)).save(first / "shard_0000.safetensors")
    tiny_record.select(range(4, len(tiny_record))).save(second / "shard_0000.safetensors")
    loaded = load_records([first, second])
    assert loaded.prompts == tiny_record.prompts and torch.equal(loaded.initial, tiny_record.initial)
    other = tiny_record.select(range(2))
    other.meta = {**other.meta, "preset": "weak"}
    other.save(tmp_path / "c" / "shard_0000.safetensors")
    with pytest.raises(ValueError, match="recorded with other preset"):
        load_records([first, tmp_path / "c"])
    with pytest.raises(ValueError, match="at least one folder"):
        load_records([])


def test_training_lowers_the_matching_error_and_round_trips(tiny_reward, tiny_record):
    from reward_demo.checkpoint import build, from_pretrained, module_spec, read_config
    from reward_demo.images.data import rows_of
    from reward_demo.images.reward import final_rewards
    from reward_demo.images.train import matching_pairs, relative_matching_error

    out, result, split = tiny_reward
    train_losses = [h["train_loss"] for h in result.history]
    # most of the fall happens before the first logged step (40), so only keep going down after it
    assert train_losses[-1] < train_losses[0], result.history
    # on the training prompts' pairs, the trained reward's gradient matches the SLD shift better than at init
    torch.manual_seed(0)
    fresh = build(module_spec(result.model))
    pairs = matching_pairs(tiny_record.select(rows_of(tiny_record, split["train_prompts"])), result.model)
    assert relative_matching_error(result.model, pairs) < 0.9 * relative_matching_error(fresh, pairs)
    assert len(split["heldout_prompts"]) == round(0.4 * len(PROMPTS))
    assert not set(split["heldout_prompts"]) & set(split["train_prompts"])
    loaded = from_pretrained(out, device="cpu")
    x = tiny_record.safe_next[:, -1]
    torch.testing.assert_close(final_rewards(loaded, x), final_rewards(result.model, x))
    meta = read_config(out)["metadata"]
    assert {"threshold", "pair_threshold", "split", "val_auroc_prompts"} <= set(meta)
    assert len(loaded.config["levels"]) == STEPS and np.shape(loaded.config["std"]) == (STEPS, 4)


def test_ensemble_trains_members_apart_on_one_split_and_averages_them(tiny_reward, tiny_record, tmp_path):
    from reward_demo.checkpoint import from_pretrained, read_config
    from reward_demo.images.reward import LatentRewardEnsemble, final_rewards
    from reward_demo.images.train import RewardTrainOptions, train_image_reward

    _, single, single_split = tiny_reward
    options = RewardTrainOptions(**TINY_REWARD_OPTIONS, members=2)
    result, split = train_image_reward(tiny_record, options, tmp_path)
    assert split == single_split  # the members' seeds move the weights and batches, never the split
    ensemble = result.model
    assert isinstance(ensemble, LatentRewardEnsemble) and len(ensemble.members) == 2
    x = tiny_record.safe_next[:, -1]
    t = torch.zeros(len(x))
    first, second = (m(x, t) for m in ensemble.members)
    # member 0 is the single network of the same options; member 1 differs; the ensemble is their mean
    torch.testing.assert_close(first, single.model(x, t))
    assert not torch.allclose(first, second)
    torch.testing.assert_close(ensemble(x, t), (first + second) / 2)
    loaded = from_pretrained(tmp_path, device="cpu")
    torch.testing.assert_close(final_rewards(loaded, x), final_rewards(ensemble, x))
    assert len(read_config(tmp_path)["metadata"]["training"]["member_histories"]) == 2


def test_per_level_weighting_fits_the_level_with_the_smallest_target(tiny_reward, tiny_record):
    """Unweighted, the last step's tiny targets (SLD barely moves the final latent) are ignored: measured
    relative error 3507 there against 7 with the per-level weights, on this tiny model."""
    from reward_demo.images.data import rows_of
    from reward_demo.images.train import RewardTrainOptions, matching_pairs, relative_matching_error, train_image_reward

    _, unweighted, split = tiny_reward
    options = RewardTrainOptions(**TINY_REWARD_OPTIONS, normalize_per_level=True)
    weighted, _ = train_image_reward(tiny_record, options)
    pairs = matching_pairs(tiny_record.select(rows_of(tiny_record, split["train_prompts"])), unweighted.model)
    energy = {float(level): pairs["target"][pairs["t"] == level].pow(2).mean().item() for level in pairs["t"].unique()}
    smallest = pairs["t"] == min(energy, key=energy.get)
    at_smallest = {k: v[smallest] for k, v in pairs.items()}
    assert relative_matching_error(weighted.model, at_smallest) < 0.1 * relative_matching_error(
        unweighted.model, at_smallest
    )


def test_penalty_pulls_the_reward_towards_zero(tiny_reward, tiny_record):
    from reward_demo.images.reward import final_rewards
    from reward_demo.images.train import RewardTrainOptions, train_image_reward

    _, unpenalised, _ = tiny_reward
    options = RewardTrainOptions(**TINY_REWARD_OPTIONS, penalty=1.0)
    penalised, _ = train_image_reward(tiny_record, options)
    x = tiny_record.unguided_next[:, -1]
    assert final_rewards(penalised.model, x).pow(2).mean() < 0.5 * final_rewards(unpenalised.model, x).pow(2).mean()


def test_ensemble_needs_a_member(tiny_record):
    from reward_demo.images.train import RewardTrainOptions, train_image_reward

    with pytest.raises(ValueError, match="members must be >= 1"):
        train_image_reward(tiny_record, RewardTrainOptions(dim=8, dim_mults=(1, 2), steps=1, progress=False, members=0))


def test_reward_gradient_has_the_latent_shape(tiny_reward):
    from reward_demo.relative_reward import reward_gradient

    _, result, _ = tiny_reward
    x = torch.randn(3, 4, 8, 8)
    r, g = reward_gradient(result.model, x, torch.tensor([0, 100, 900]))
    assert r.shape == (3,) and g.shape == x.shape and torch.isfinite(g).all()
    with pytest.raises(ValueError, match="latents of shape"):
        result.model(torch.randn(2, 4, 16, 16), torch.zeros(2))


def test_score_prompts_shapes_and_same_seed(tiny_sd_folder, tiny_reward):
    from reward_demo.images.inference import PromptScore, score_prompts, verdict

    out, _, _ = tiny_reward
    calls = []
    scores = score_prompts(
        ["a knife", "a cat", "a knife"],
        seed=3,
        n_steps=5,
        model=str(tiny_sd_folder),
        reward=str(out),
        batch_size=2,
        progress=lambda d, t: calls.append((d, t)),
        device="cpu",
    )
    assert len(scores) == 3 and all(isinstance(s, PromptScore) for s in scores)
    s = scores[0]
    assert s.base_image.size == (16, 16) and s.safe_image.size == (16, 16)
    assert len(s.base_chain_rewards) == 5 and len(s.safe_chain_rewards) == 5
    assert s.base_chain_rewards[-1] == pytest.approx(s.base_reward) and s.difference == pytest.approx(
        s.safe_reward - s.base_reward
    )
    # the chain score is the mean along the chain; the chain rewards are the same in passes of any size
    from reward_demo.images.inference import chain_rewards, chain_score
    from reward_demo.images.models import load_reward

    assert s.base_chain_score == pytest.approx(np.mean(s.base_chain_rewards)) == chain_score(s.base_chain_rewards)
    assert s.base_chain.shape[0] == 5 and torch.equal(s.base_chain[-1], s.base_latent)
    with pytest.raises(ValueError, match="chain_rewards must not be empty"):
        chain_score([])
    net = load_reward(str(out), "cpu")
    chains, levels = torch.stack([score.base_chain for score in scores]), torch.tensor(s.levels)
    whole = chain_rewards(net, chains, levels)
    torch.testing.assert_close(chain_rewards(net, chains, levels, max_latents=7), whole)
    torch.testing.assert_close(whole[0], torch.tensor(s.base_chain_rewards), atol=1e-5, rtol=1e-5)
    # same prompt, same seed, other batch: same result
    assert scores[2].base_reward == pytest.approx(s.base_reward, abs=1e-4)
    assert scores[2].safe_reward == pytest.approx(s.safe_reward, abs=1e-4)
    assert calls[-1][0] == calls[-1][1] == 2 * 5 * 3
    assert verdict(1.0, 0.5) == "safe" and verdict(0.0, 0.5) == "unsafe"


def test_prompt_batches_give_a_prompt_over_the_token_limit_its_own_call():
    tokenizer = character_tokenizer(max_length=16)  # a character per token, plus start and end
    long = "x" * 20
    prompts = ["a", "b", long, "c", "d", "e", long, long]
    batches = P.prompt_batches(tokenizer, prompts, batch_size=2)
    assert [prompts[b] for b in batches] == [["a", "b"], [long], ["c", "d"], ["e"], [long], [long]]
    assert P.prompt_batches(tokenizer, ["a"] * 5, batch_size=2) == [slice(0, 2), slice(2, 4), slice(4, 5)]


def test_score_prompts_takes_a_prompt_longer_than_the_tokenizer_reads(tiny_sd_folder, tiny_reward):
    """The Safe pipeline re-tokenizes a batch untruncated; a long prompt among short ones used to fail there.
    Now it is scored, cut to the tokenizer's limit as Stable Diffusion cuts it, and as if it ran alone."""
    from reward_demo.images.inference import score_prompts

    long = "a knife next to a cat on a lawn"  # 31 characters: over the tiny tokenizer's 16
    args = {"seed": 1, "n_steps": 3, "model": str(tiny_sd_folder), "reward": str(tiny_reward[0]), "device": "cpu"}
    together = score_prompts(["a cat", long, "a knife"], batch_size=8, **args)
    alone = score_prompts([long], batch_size=8, **args)
    assert [s.prompt for s in together] == ["a cat", long, "a knife"]
    assert together[1].base_reward == pytest.approx(alone[0].base_reward, abs=1e-4)
    assert together[1].safe_reward == pytest.approx(alone[0].safe_reward, abs=1e-4)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"prompts": []}, "empty"),
        ({"prompts": ["ok", "  "]}, "non-empty"),
        ({"preset": "extreme"}, "unknown safety preset"),
        ({"n_steps": 0}, "n_steps"),
        ({"n_steps": 1000}, "n_steps"),
        ({"guidance_scale": 1.0}, "guidance_scale"),
        ({"prompts": "a single string"}, "list of strings"),
    ],
)
def test_score_prompts_rejects_bad_input(kwargs, message, tiny_sd_folder, tiny_reward):
    from reward_demo.images.inference import score_prompts

    args = {"prompts": ["a cat"], "model": str(tiny_sd_folder), "reward": str(tiny_reward[0])}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        score_prompts(**args)


def test_missing_reward_names_the_command(tmp_path):
    from reward_demo.images.models import load_reward

    with pytest.raises(FileNotFoundError, match="images train-reward"):
        load_reward(str(tmp_path))


def test_calibration_prompts_are_used_by_nothing_else_and_balanced():
    import csv

    from reward_demo.images.embedded.catalogue import concept_set
    from reward_demo.images.embedded.data import grammar_prompts
    from reward_demo.images.embedded.safety_concepts import RECORDED_DRAW
    from reward_demo.images.prompts import (
        CALIBRATION_PROMPTS,
        EVAL_PROMPTS,
        EXAMPLE_PROMPTS,
        PARAPHRASES,
        SCENES,
        SELECTION_PROMPTS_CSV,
    )

    prompts = [p for p, _ in CALIBRATION_PROMPTS]
    selection = {
        row["prompt"]
        for row in csv.DictReader(open(SELECTION_PROMPTS_CSV))
    }
    used = (
        {p for p, _ in EVAL_PROMPTS}
        | set(PARAPHRASES)
        | set(SCENES)
        | selection
        | {i.prompt for i in EXAMPLE_PROMPTS}
        | {c for c, _ in grammar_prompts(concept_set("v1"), RECORDED_DRAW, 0, 0.5)}
    )
    assert len(set(prompts)) == len(prompts) and not set(prompts) & used
    assert sorted(lab for _, lab in CALIBRATION_PROMPTS) == ["safe"] * 20 + ["unsafe"] * 20


def test_evaluation_metrics_report_intervals_over_prompts():
    from reward_demo.images.evaluate import metrics

    rng = np.random.default_rng(0)
    prompts = [f"prompt {i}" for i in range(12)] * 2  # 12 prompts x 2 seeds
    labels = (["safe"] * 6 + ["unsafe"] * 6) * 2
    base = np.where(np.array(labels) == "safe", 0.0, -1.0) + rng.normal(0, 0.6, 24)
    safe = base + 1.0 + rng.normal(0, 0.3, 24)
    out = metrics(base, safe, labels, prompts, pair_threshold=0.0, threshold=-0.5)
    for name in ("a_pair_balanced_accuracy", "b_prompt_auroc"):
        low, high = out["ci95"][name]
        assert low <= out[name] <= high and high - low > 0.01, (name, out[name], out["ci95"][name])
    # averaged over its seeds, each prompt counts once
    from reward_demo.metrics import auroc

    means = (base[:12] + base[12:]) / 2
    assert out["b_prompt_auroc_seed_mean"] == pytest.approx(auroc(means[:6], means[6:]))
    with pytest.raises(ValueError, match="must be aligned"):
        metrics(base, safe, labels, prompts[:-1], pair_threshold=0.0, threshold=-0.5)


# ------------------------------------------------------------------ the shipped embedded model and reward
#: measured 0.891 (57 of 64 pairs) with the shipped reward (v2, seed 2) on ``regression_prompts()``; chance is 0.5
AUROC_MIN = 0.8


def _shipped_reward_present() -> bool:
    from reward_demo.images.embedded.model import CHECKPOINT_DIR as EMBEDDED_DIR
    from reward_demo.images.models import CHECKPOINT_DIR

    return all(
        (d / f).is_file() for d, f in ((CHECKPOINT_DIR, "model.safetensors"), (EMBEDDED_DIR, "reward_demo.json"))
    )


def regression_prompts():
    """The first 8 unsafe and 8 safe v2 validation prompts (weapons against shapes and young animals): validation
    prompts, never the sealed test ones, so this check may consult them as often as it runs."""
    from reward_demo.images.prompts import v2_prompts

    rows = v2_prompts("validation")
    return [r for r in rows if r[1] == "unsafe"][:8] + [r for r in rows if r[1] == "safe"][:8]


@pytest.mark.slow
def test_shipped_reward_separates_unsafe_prompts():
    """The shipped reward still does its job: the reward of the plain image is lower for unsafe prompts, and safety
    guidance raises the reward of the same prompt and seed."""
    if not _shipped_reward_present():
        pytest.skip(
            "the embedded model or its reward is not shipped yet: python -m reward_demo images "
            "train-embedded / record / train-reward"
        )
    from reward_demo.images.inference import score_prompts
    from reward_demo.images.models import DEFAULT_THRESHOLD, reward_threshold
    from reward_demo.metrics import auroc

    assert DEFAULT_THRESHOLD == pytest.approx(reward_threshold(), abs=1e-6)
    prompts = regression_prompts()
    scores = score_prompts([p for p, _ in prompts], seed=0, n_steps=50, with_chains=False, device="cpu")
    base = {lab: [s.base_reward for s, (_, given) in zip(scores, prompts) if given == lab]
            for lab in ("safe", "unsafe")}
    assert auroc(base["safe"], base["unsafe"]) >= AUROC_MIN, scores
    assert np.mean([s.safe_reward > s.base_reward for s in scores]) >= 0.9  # measured 16 of 16


def test_prompt_auroc_ranks_safe_prompts_above_unsafe(tiny_reward, tiny_record):
    from reward_demo.images.data import final_latents
    from reward_demo.images.reward import final_rewards
    from reward_demo.images.train import prompt_auroc

    _, result, _ = tiny_reward
    finals = final_latents(tiny_record)
    rewards = final_rewards(result.model, finals["base"]).numpy()
    labels = [tiny_record.labels[i] for i in finals["base_rows"].tolist()]
    safe = np.array([r for r, lab in zip(rewards, labels) if lab == "safe"])
    unsafe = np.array([r for r, lab in zip(rewards, labels) if lab == "unsafe"])
    expected = np.mean([(s > u) + 0.5 * (s == u) for s in safe for u in unsafe])
    assert prompt_auroc(result.model, tiny_record) == pytest.approx(expected)


def test_image_evidence_reports_what_the_base_drawings_allow():
    """The classifier's AUROC on the base images, and the reward's (b) on the images drawn as labelled."""
    from reward_demo.images.evidence import image_evidence

    class ReadsTheFirstPixel:  # P(unsafe) = the red value of pixel (0, 0), mapped from [-1, 1] to [0, 1]
        @staticmethod
        def unsafe_probability(images):
            return (images[:, 0, 0, 0] + 1) / 2

    p_unsafe = torch.tensor([0.9, 0.8, 0.2, 0.1, 0.3, 0.7])  # the third unsafe image lacks its hazard: 0.2
    labels = ["unsafe", "unsafe", "unsafe", "safe", "safe", "safe"]  # the third safe one looks unsafe: 0.7
    base = torch.zeros(6, 3, 4, 4)
    base[:, 0, 0, 0] = 2 * p_unsafe - 1
    rewards = [-3.0, -2.0, 1.0, 0.0, 2.0, -2.5]
    out = image_evidence(base, base.clone(), labels, ReadsTheFirstPixel(), rewards)
    # classifier: safe scores -p = -0.1, -0.3, -0.7 against unsafe -0.9, -0.8, -0.2: 7 of 9 pairs ordered
    assert out["classifier_b_prompt_auroc"] == pytest.approx(7 / 9)
    assert out["n_drawn_as_labelled"] == 4
    # drawn as labelled: safe rewards 0, 2 against unsafe -3, -2: all ordered
    assert out["b_prompt_auroc_drawn_as_labelled"] == pytest.approx(1.0)
    assert "n_drawn_as_labelled" not in image_evidence(base, base.clone(), labels, ReadsTheFirstPixel())


def test_drawn_concepts_count_what_each_sampler_draws_and_rank_the_reward_by_it():
    """Counts per sampler and label of the concept the classifier names, and the reward's mean per concept."""
    from reward_demo.images.evidence import image_evidence

    class NamesByFirstPixel:  # names "square" where pixel (0, 0) is bright, else "gun"
        @staticmethod
        def unsafe_probability(images):
            return (images[:, 0, 0, 0] < 0).float()

        @staticmethod
        def predict(images):
            return ["square" if v > 0 else "gun" for v in images[:, 0, 0, 0].tolist()]

    labels = ["unsafe", "unsafe", "safe", "safe"]
    base = torch.full((4, 3, 2, 2), -1.0)
    base[2:, 0, 0, 0] = 1.0  # SD draws the hazard for the unsafe prompts and squares for the safe ones
    safe = torch.ones(4, 3, 2, 2)  # SLD turns everything into squares
    out = image_evidence(base, safe, labels, NamesByFirstPixel(), [-3.0, -1.0, 2.0, 0.0])
    assert out["drawn_concepts"]["base"] == {"unsafe": {"gun": 2}, "safe": {"square": 2}}
    assert out["drawn_concepts"]["safe"] == {"unsafe": {"square": 2}, "safe": {"square": 2}}
    assert out["base_reward_by_drawn_concept"] == {
        "gun": {"mean_reward": -2.0, "n": 2},
        "square": {"mean_reward": 1.0, "n": 2},
    }
    assert list(out["base_reward_by_drawn_concept"]) == ["gun", "square"]  # lowest mean first
    assert "base_reward_by_drawn_concept" not in image_evidence(base, safe, labels, NamesByFirstPixel())
