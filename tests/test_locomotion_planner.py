"""Locomotion planners: tiny random models (shapes, inpainting, scale 0, bad inputs, save/load), the shipped
checkpoints (a short steered episode, the reward ranks held-out expert windows above base windows) and the CLI."""
import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("gymnasium")

from locomotion_support import ACT, OBS, save_random_datasets, save_tiny_hopper_models  # noqa: E402
from reward_demo.checkpoint import save_pretrained  # noqa: E402
from reward_demo.locomotion.inference import learned_window_rewards, plan, rollout, run_episodes
from reward_demo.locomotion.models import CHECKPOINT_ROOT, DEFAULT_STEERING, load_locomotion_models
from reward_demo.locomotion.train import LocoTrainArgs  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = Path(os.environ.get("REWARD_DEMO_LOCOMOTION_CHECKPOINTS") or CHECKPOINT_ROOT)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory):
    return save_tiny_hopper_models(tmp_path_factory.mktemp("loco"))


@pytest.fixture(scope="module")
def tiny_hopper(tiny_root):
    return load_locomotion_models("hopper", str(tiny_root), "cpu")


def test_shapes_and_recorded_states(tiny_hopper):
    batch = run_episodes(tiny_hopper, [100_000, 100_001], scale=0.3, t_stopgrad=2, max_steps=6, record_states=True)
    assert batch.seeds == [100_000, 100_001]
    assert len(batch.observations) == len(batch.actions) == len(batch.learned_rewards) == 2
    for i, length in enumerate(batch.lengths):
        assert 1 <= length <= 6
        assert batch.observations[i].shape == (length, OBS)
        assert batch.actions[i].shape == (length, ACT)
        assert batch.env_rewards[i].shape == batch.learned_rewards[i].shape == (length,)
        assert batch.qpos[i].shape == (length + 1, 6) and batch.qvel[i].shape == (length + 1, 6)
        assert np.abs(batch.actions[i]).max() <= 1.0
        assert np.isfinite(batch.learned_rewards[i]).all()
    np.testing.assert_allclose(batch.returns, [r.sum() for r in batch.env_rewards])
    assert np.isfinite(batch.scores).all()
    assert tiny_hopper.defaults == DEFAULT_STEERING["hopper"]  # the paper reward's steering


def test_start_state_is_inpainted(tiny_hopper):
    obs = torch.randn(3, OBS)
    for scale in (0.0, 1.0):
        for guidance in ("input", "mean"):
            x = plan(tiny_hopper, obs, scale, 0, generator=torch.Generator().manual_seed(0), guidance=guidance)
            assert x.shape == (3, tiny_hopper.horizon, OBS + ACT)
            assert torch.equal(x[:, 0, :OBS], obs)
    x = plan(tiny_hopper, obs, planner="expert", generator=torch.Generator().manual_seed(0))
    assert torch.equal(x[:, 0, :OBS], obs)


def test_scale_zero_is_unsteered_bit_for_bit(tiny_hopper):
    obs = torch.randn(2, OBS)
    unsteered = tiny_hopper.base.sample(2, conditions={0: obs}, generator=torch.Generator().manual_seed(5)).x
    for stop in (0, 7):
        assert torch.equal(plan(tiny_hopper, obs, 0.0, stop, generator=torch.Generator().manual_seed(5)), unsteered)
    steered = plan(tiny_hopper, obs, 5.0, 0, generator=torch.Generator().manual_seed(5))
    assert not torch.equal(steered, unsteered)
    # mean guidance draws the same noise in the same order: a negligible scale leaves the sample almost unchanged
    mean_guided = plan(tiny_hopper, obs, 1e-12, 0, generator=torch.Generator().manual_seed(5), guidance="mean")
    torch.testing.assert_close(mean_guided, unsteered)
    assert not torch.equal(plan(tiny_hopper, obs, 5.0, 0, generator=torch.Generator().manual_seed(5), guidance="mean"),
                           unsteered)
    # t_stopgrad = T switches steering off entirely
    assert torch.equal(plan(tiny_hopper, obs, 5.0, tiny_hopper.n_timesteps, generator=torch.Generator().manual_seed(5)),
                       unsteered)
    a = run_episodes(tiny_hopper, [100_002], 0.0, 3, max_steps=4)
    b = run_episodes(tiny_hopper, [100_002], 0.0, 0, max_steps=4)
    np.testing.assert_array_equal(a.actions[0], b.actions[0])


def test_per_episode_guide_matches_scalar_guide(tiny_hopper):
    obs = torch.randn(2, OBS)
    scalar = plan(tiny_hopper, obs, 0.7, 4, generator=torch.Generator().manual_seed(1))
    per_sample = plan(tiny_hopper, obs, torch.tensor([0.7, 0.7]), torch.tensor([4, 4]),
                      generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(per_sample, scalar)


def test_t_startgrad_per_episode_and_for_the_batch_agree_and_T_is_every_step(tiny_hopper):
    everywhere = run_episodes(tiny_hopper, [100_003, 100_004], 0.5, 0, max_steps=3)
    as_T = run_episodes(tiny_hopper, [100_003, 100_004], 0.5, 0, max_steps=3, t_startgrad=tiny_hopper.n_timesteps)
    np.testing.assert_array_equal(as_T.actions[1], everywhere.actions[1])
    window = run_episodes(tiny_hopper, [100_003, 100_004], 0.5, 0, max_steps=3, t_startgrad=5)
    assert not np.array_equal(window.actions[1], everywhere.actions[1])
    assert window.t_startgrads.tolist() == [5, 5] and window.to_json()["t_startgrads"] == [5, 5]
    mixed = rollout(tiny_hopper, [100_003, 100_004], [0.5, 0.5], [0, 0], max_steps=3, guidance=tiny_hopper.guidance,
                    t_startgrads=[5, 20])
    np.testing.assert_allclose(mixed.actions[0], window.actions[0], atol=1e-5)
    np.testing.assert_allclose(mixed.actions[1], everywhere.actions[1], atol=1e-5)
    with pytest.raises(ValueError, match=r"t_startgrads must be one value or one per seed \(2\)"):
        rollout(tiny_hopper, [100_003, 100_004], [0.5, 0.5], [0, 0], max_steps=1, t_startgrads=[5, 5, 5])


def test_mean_guided_sample_shows_every_reverse_step_state_and_the_hook_changes_nothing(tiny_hopper):
    from reward_demo.steering import MeanRewardGuide

    obs = torch.randn(2, OBS)
    guide = MeanRewardGuide(tiny_hopper.reward, torch.full((2,), 0.5), torch.zeros(2, dtype=torch.long))
    seen = []
    hooked = tiny_hopper.base.sample(2, conditions={0: obs}, generator=torch.Generator().manual_seed(3), step=guide,
                                     on_state=lambda x, t: seen.append((x.clone(), t.clone()))).x
    plain = tiny_hopper.base.sample(2, conditions={0: obs}, generator=torch.Generator().manual_seed(3), step=guide).x
    assert torch.equal(hooked, plain)
    assert [int(t[0]) for _, t in seen] == list(range(tiny_hopper.n_timesteps - 1, -1, -1))
    for x, _ in seen:  # each state has the start observation inpainted, as the reward is trained on
        assert x.shape == (2, tiny_hopper.horizon, OBS + ACT) and torch.equal(x[:, 0, :OBS], obs)


def test_learned_rewards_are_window_rewards_padded_at_the_end(tiny_hopper):
    rng = np.random.default_rng(0)
    obs, act = rng.normal(size=(6, OBS)).astype(np.float32), rng.uniform(-1, 1, (6, ACT)).astype(np.float32)
    rewards = learned_window_rewards(tiny_hopper, obs, act)
    rows = tiny_hopper.normalizer.normalize(np.concatenate([obs, act], 1))
    for k in (0, 5):
        window = rows[[min(k + j, 5) for j in range(tiny_hopper.horizon)]]
        expected = tiny_hopper.reward(torch.from_numpy(window)[None], torch.zeros(1, dtype=torch.long)).item()
        assert rewards[k] == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize("kwargs, message", [
    (dict(scale=-0.1), "scale must be"),
    (dict(scale=float("nan")), "scale must be"),
    (dict(t_stopgrad=21), r"t_stopgrad must be an integer in \[0, 20\]"),
    (dict(t_stopgrad=-1), "t_stopgrad must be"),
    (dict(t_startgrad=0), r"t_startgrad must be an integer in \[1, 20\]"),
    (dict(t_startgrad=21), "t_startgrad must be"),
    (dict(max_steps=0), r"max_steps must be an integer in \[1, 1000\]"),
    (dict(max_steps=1001), "max_steps must be"),
    (dict(planner="greedy"), "planner must be one of base, expert"),
    (dict(guidance="sideways"), "guidance must be one of input, mean"),
])
def test_bad_inputs(tiny_hopper, kwargs, message):
    call = dict(seeds=[1], scale=0.1, t_stopgrad=0, max_steps=2)
    call.update(kwargs)
    with pytest.raises(ValueError, match=message):
        run_episodes(tiny_hopper, **call)


def test_loader_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown locomotion environment 'ant'.*hopper"):
        load_locomotion_models("ant", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="locomotion train-planners --env walker2d"):
        load_locomotion_models("walker2d", str(tmp_path))


def test_save_load_round_trip(tiny_hopper, tiny_root, tmp_path):
    from reward_demo.checkpoint import from_pretrained

    x = torch.randn(2, tiny_hopper.horizon, OBS + ACT)
    t = torch.tensor([0, 19])
    for kind in ("base", "reward"):
        model = getattr(tiny_hopper, kind)
        save_pretrained(model, tmp_path / kind, metadata=model.metadata)
        again = from_pretrained(tmp_path / kind, "cpu")
        net, net_again = (model.model, again.model) if kind == "base" else (model, again)
        assert torch.equal(net(x, t), net_again(x, t))
    assert torch.equal(tiny_hopper.base.loss_weights[0, OBS:], torch.full((ACT,), 10.0))
    assert load_locomotion_models("hopper", str(tiny_root), "cpu") is tiny_hopper  # cached
    values = np.random.default_rng(1).normal(size=(5, OBS + ACT)).astype(np.float32)
    normalizer = tiny_hopper.normalizer
    np.testing.assert_allclose(normalizer.unnormalize(normalizer.normalize(values)), values, atol=1e-5)


# ---------------------------------------------------------------------------------------------- shipped checkpoints


def shipped_envs():
    return [env for env in ("hopper", "halfcheetah", "walker2d")
            if (SHIPPED / env / "reward" / "model.safetensors").is_file()]


def test_hopper_and_halfcheetah_are_shipped():
    assert {"hopper", "halfcheetah"} <= set(shipped_envs()), f"missing planners in {SHIPPED}"


@pytest.mark.slow
@pytest.mark.parametrize("env", shipped_envs())
def test_shipped_short_steered_episode(env):
    models = load_locomotion_models(env, device="cpu")
    batch = run_episodes(models, [100_000, 100_001], models.defaults["scale"], models.defaults["t_stopgrad"],
                         max_steps=20)
    assert all(np.isfinite(o).all() for o in batch.observations)
    assert np.isfinite(batch.scores).all() and (batch.lengths >= 1).all()
    assert all(np.isfinite(r).all() for r in batch.learned_rewards)


def test_shipped_walker2d_rewards_steer_the_base_planners_they_were_fitted_on():
    from reward_demo.checkpoint import read_config
    from reward_demo.locomotion.models import steered_base_planner

    folder = SHIPPED / "walker2d"
    # the paper reward was trained against the 25k-step planner; the on-policy one was fitted on the 6k-step one
    assert steered_base_planner(folder, "reward") == "base"
    assert steered_base_planner(folder, "reward_onpolicy") == "base_6k"
    assert read_config(folder / "base")["metadata"]["training"]["steps"] == 25_000
    assert read_config(folder / "base_6k")["metadata"]["training"]["steps"] == 6_000


@pytest.mark.slow
@pytest.mark.parametrize("env", shipped_envs())
def test_shipped_reward_ranks_heldout_expert_above_base(env):
    from reward_demo.locomotion.evaluate import heldout_reward_auroc

    result = heldout_reward_auroc(load_locomotion_models(env, device="cpu"), n_windows=256, expert_steps=1000)
    assert result["auroc"] > 0.8, result


@pytest.mark.slow
def test_cli_evaluate(tmp_path):
    out = tmp_path / "eval.json"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "reward_demo", "locomotion", "evaluate", "--env", "hopper", "--episodes", "2",
           "--max-steps", "10", "--seed", "100000", "--scale", "0.1", "--t-stopgrad", "2", "--json", str(out)]
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
    result = json.loads(out.read_text())
    assert result["episodes"] == 2 and result["scale"] == 0.1 and result["t_stopgrad"] == 2
    assert result["reward"]["name"] == "paper" and result["reward"]["folder"] == "reward"  # the default reward
    for key in ("base", "steered"):
        assert len(result[key]["scores"]) == 2 and len(result[key]["score"]["ci95"]) == 2
    assert "ci95" in result["difference"] and "score" in result["expert_policy"]
    assert out.with_suffix(".png").is_file()
    bad_cmd = [c if c != "0.1" else "-1" for c in cmd]
    bad = subprocess.run(bad_cmd, cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120)
    assert bad.returncode == 2 and "scale must be" in bad.stderr
    windowed = tmp_path / "eval_window.json"  # its own file: ``out`` stays the run the report merges below
    subprocess.run([c if c != str(out) else str(windowed) for c in cmd] + ["--t-startgrad", "5"], cwd=ROOT, env=env,
                   check=True, capture_output=True, timeout=120)
    assert json.loads(windowed.read_text())["t_startgrad"] == 5
    bad = subprocess.run(cmd + ["--t-startgrad", "0"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "t_startgrad must be an integer in [1, 20]" in bad.stderr

    # the report merges it; --append keeps the additional runs the report already lists
    from reward_demo.locomotion.report import LocoReportArgs, report_command

    runs, report = tmp_path / "runs", tmp_path / "report.json"
    runs.mkdir()
    (runs / "locomotion_eval_hopper.json").write_text(out.read_text())
    report.write_text(json.dumps({"additional_runs": [{"file": "gone.json", "env": "hopper"}]}))
    report_command(LocoReportArgs(envs=("hopper",), runs=runs, out=report, extra=(out,), append=True))
    merged = json.loads(report.read_text())
    assert [r["file"] for r in merged["additional_runs"]] == ["gone.json", "eval.json"]
    assert merged["evaluation"]["hopper"]["episodes"] == 2 and report.with_suffix(".png").is_file()
    report_command(LocoReportArgs(envs=("hopper",), runs=runs, out=report, extra=(out,)))
    assert [r["file"] for r in json.loads(report.read_text())["additional_runs"]] == ["eval.json"]


def test_expert_steps_default_to_the_env_default_else_the_base_steps():
    args = LocoTrainArgs(env="HalfCheetah-v5").resolved()  # no expert default of its own
    assert args.env == "halfcheetah" and args.expert_diffusion_steps == args.diffusion_steps > 0
    resolved = LocoTrainArgs(env="hopper", diffusion_steps=7, expert_diffusion_steps=9).resolved()
    assert resolved.expert_diffusion_steps == 9
    assert LocoTrainArgs(env="halfcheetah", diffusion_steps=7).resolved().expert_diffusion_steps == 7
    assert LocoTrainArgs(env="hopper", diffusion_steps=7).resolved().expert_diffusion_steps == 80_000  # env default


@pytest.mark.slow
def test_train_planners_command_trains_saves_fp16_and_skips_finished_models(tmp_path):
    from reward_demo.checkpoint import read_config
    from reward_demo.locomotion.train import train_planners_command

    save_random_datasets(tmp_path / "data")
    args = LocoTrainArgs(env="hopper", out=tmp_path / "models", data_root=tmp_path / "data", horizon=4, dim=16,
                         dim_mults=(1, 2), diffusion_steps=3, expert_diffusion_steps=5, reward_steps=2, batch_size=8,
                         reward_batch_size=8, reward_buffer=16, reward_refresh=1, progress=False)
    train_planners_command(args)
    folder = tmp_path / "models" / "hopper"
    steps = {kind: read_config(folder / kind)["metadata"]["training"]["steps"] for kind in ("base", "expert", "reward")}
    assert steps == {"base": 3, "expert": 5, "reward": 2}
    for kind in ("base", "expert", "reward"):
        assert read_config(folder / kind)["dtype"] == "float16"
    assert "--expert-diffusion-steps 5" in read_config(folder / "expert")["metadata"]["command"]
    models = load_locomotion_models("hopper", str(tmp_path / "models"), "cpu")
    batch = run_episodes(models, [100_000], scale=0.1, t_stopgrad=0, max_steps=3)
    assert np.isfinite(batch.scores).all()
    written = {kind: (folder / kind / "model.safetensors").stat().st_mtime_ns for kind in ("base", "expert", "reward")}
    train_planners_command(args)  # finished models are kept, not retrained
    assert written == {kind: (folder / kind / "model.safetensors").stat().st_mtime_ns for kind in written}
    # the paper reward is matched on the free entries; a reward matched on the inpainted start too is another
    # model, so asking for it retrains the reward only
    assert read_config(folder / "reward")["metadata"]["args"]["reward_match_start"] is False
    train_planners_command(dataclasses.replace(args, reward_match_start=True))
    assert read_config(folder / "reward")["metadata"]["args"]["reward_match_start"] is True
    assert "--reward-match-start" in read_config(folder / "reward")["metadata"]["command"]
    assert {k: written[k] for k in ("base", "expert")} == {
        k: (folder / k / "model.safetensors").stat().st_mtime_ns for k in ("base", "expert")}


def test_sweep_scores_every_setting_on_the_same_seeds_with_the_rewards_guidance(tiny_hopper):
    import dataclasses

    from reward_demo.locomotion.evaluate import LocoSweepArgs, sweep

    args = LocoSweepArgs(env="hopper", episodes=2, max_steps=3, scales=(0.5, 0.1), t_stopgrads=(0, 10))
    result = sweep(tiny_hopper, args)
    settings = [(r["scale"], r["t_stopgrad"]) for r in result["rows"]]
    assert settings == [(0.0, 0), (0.5, 0), (0.5, 10), (0.1, 0), (0.1, 10)]
    assert all(len(r["scores"]) == 2 for r in result["rows"]) and result["guidance"] == tiny_hopper.guidance
    best = max(result["rows"][1:], key=lambda r: r["score_mean"])
    assert result["chosen"] == {"scale": best["scale"], "t_stopgrad": best["t_stopgrad"]}
    windows = sweep(tiny_hopper, dataclasses.replace(args, scales=(0.5,), t_stopgrads=(0,), t_startgrads=(20, 5)))
    assert [(r["scale"], r["t_startgrad"]) for r in windows["rows"]] == [(0.0, 20), (0.5, 20), (0.5, 5)]
    assert "t_startgrad" in windows["chosen"]
    mean_guided = dataclasses.replace(tiny_hopper, defaults={**tiny_hopper.defaults, "guidance": "mean"})
    assert sweep(mean_guided, args)["guidance"] == "mean"
    assert sweep(mean_guided, dataclasses.replace(args, guidance="input"))["guidance"] == "input"
