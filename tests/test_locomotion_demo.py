"""The Locomotion tab's domain code (``reward_demo.locomotion.demo`` / ``demo_results``): the input checks name the
input and what is allowed, the headline says return, distance and steps survived of steered vs base, and a run
streamed while it goes shows prefixes of the finished run and stops when checked or closed.

Tests of a run are skipped only when no env has trained checkpoints (the reason says how to train)."""
import os

os.environ.setdefault("MUJOCO_GL", "egl")

import time  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

pytest.importorskip("mujoco")
pytest.importorskip("imageio_ffmpeg")

from locomotion_support import check_video, first_trained_env  # noqa: E402
from reward_demo.locomotion import demo, demo_results, render  # noqa: E402
from reward_demo.locomotion.models import DEFAULT_STEERING  # noqa: E402


@pytest.mark.parametrize("fn,value,message", [
    (demo.parse_scale, -0.1, "steering scale must be in 0..10"),
    (demo.parse_scale, "x", "steering scale must be a number"),
    (demo.parse_scale, float("nan"), "steering scale must be a finite number"),
    (demo.parse_steps, 5, "episode length (environment steps) must be an integer in 10..300"),
    (demo.parse_steps, 301, "10..300"),
    (demo.parse_steps, 12.5, "10..300"),
    (demo.parse_seed, -1, "seed must be an integer"),
    (demo.check_env, "ant", "unknown environment 'ant'"),
    (demo.check_env, None, "unknown environment"),
    # issue 25: every message names the input and what is allowed, whatever the value's type
    (demo.parse_seed, "abc", "seed must be an integer in 0..2147483647, got 'abc'"),
    (demo.parse_seed, "", "seed is missing: enter an integer in 0..2147483647"),
    (demo.parse_seed, 1.5, "seed must be an integer in 0..2147483647, got 1.5"),
    (demo.parse_steps, "many", "episode length (environment steps) must be an integer in 10..300, got 'many'"),
    (demo.parse_steps, None, "episode length (environment steps) is missing: enter an integer in 10..300"),
    (demo.parse_scale, "lots", "steering scale must be a number in 0..10 (0 = no steering), got 'lots'"),
    (demo.parse_scale, None, "steering scale is missing: enter a number in 0..10"),
    (demo.check_env, "", "unknown environment '': choose one of ['hopper', 'halfcheetah', 'walker2d']"),
])
def test_input_checks(fn, value, message):
    with pytest.raises(ValueError) as info:
        fn(value)
    assert message in str(info.value)


def test_input_checks_accept_good_values():
    assert demo.parse_scale("0.5") == 0.5 and demo.parse_scale(0) == 0.0
    assert demo.parse_steps(20.0) == 20 and demo.parse_seed(7) == 7
    assert demo.check_env("Hopper-v5") == "hopper"


def test_t_stopgrad_is_checked_against_the_rewards_window():
    from types import SimpleNamespace

    every_step = SimpleNamespace(n_timesteps=20, t_startgrad=None)
    window = SimpleNamespace(n_timesteps=20, t_startgrad=10)
    assert demo.parse_t_stopgrad(20, every_step) == 20 and demo.parse_t_stopgrad("9", window) == 9
    with pytest.raises(ValueError, match=r"20 = none\) must be an integer in 0..20, got 21"):
        demo.parse_t_stopgrad(21, every_step)
    with pytest.raises(ValueError) as info:
        demo.parse_t_stopgrad(12, window)
    assert "this reward guides only steps t < 10" in str(info.value) and "integer in 0..9, got 12" in str(info.value)



def summaries(base_length=180, steered_length=300, base_fell=True, steered_fell=False) -> dict:
    return {"base": {"return": 455.2, "normalized_score": 14.0, "length": base_length, "fell": base_fell,
                     "distance": 1.234},
            "steered": {"return": 811.6, "normalized_score": 25.0, "length": steered_length, "fell": steered_fell,
                        "distance": 2.051}}


def test_headline_compares_return_distance_and_steps_survived():
    assert (demo_results.comparison("hopper", summaries()) ==
            "Steered hopper: return 812 vs 455 base, travelled 2.05 m vs 1.23 m, survived 300 vs 180 steps")
    both_up = summaries(300, 300, False, False)
    assert demo_results.comparison("halfcheetah", both_up).endswith(", neither fell in 300 steps")
    settings = {"seed": 3, "scale": 1.0, "t_stopgrad": 0, "steps": 300, "guidance": "mean", "reward": "onpolicy"}
    finished = demo_results.headline("hopper", summaries(), settings, "finished")
    assert finished.startswith("**Steered hopper: return 812 vs 455 base")
    assert "The base planner fell at step 180" in finished
    assert ("reward: on-policy fine-tuned (extension); seed 3, steering scale 1, t_stopgrad 0, mean guidance"
            in finished)
    paper = demo_results.headline("hopper", summaries(), {**settings, "reward": "paper"}, "running", 4)
    assert "reward: paper (offline); seed 3" in paper
    running = demo_results.headline("hopper", summaries(), settings, "running", 42)
    assert running.startswith("**Step 42 of 300, so far:**")
    assert demo_results.headline("hopper", summaries(), settings, "cancelled", 42).startswith(
        "**Cancelled at step 42 of 300; up to then:**")
    assert "Precomputed example" in demo_results.headline("hopper", summaries(), settings, "example")
    assert "no run to show yet" in demo_results.headline("hopper", {}, settings, "finished")
    # a missing distance (an example made before distances were recorded) is left out, not made up
    old = {p: {k: v for k, v in entry.items() if k != "distance"} for p, entry in summaries().items()}
    assert "travelled" not in demo_results.comparison("hopper", old)


def test_episode_distance_is_the_root_x_travelled():
    qpos = np.zeros((4, 6))
    qpos[:, 0] = [0.5, 0.7, 1.1, 1.75]
    episode = demo.Episode("steered", np.ones(3), np.ones(3), 3.0, 1.0, 3, False, qpos, np.zeros((4, 6)))
    assert episode.distance == pytest.approx(1.25) and episode.summary()["distance"] == 1.25
    assert demo.Episode("base", np.ones(3), np.ones(3), 3.0, 1.0, 3, False).summary()["distance"] is None
    base = {**summaries()["base"], "return": 1.0, "normalized_score": 0.0}
    out = demo_results.summary_json("hopper", {"seed": 0}, {"base": base, "steered": episode.summary()})
    assert out["steered_minus_base"]["distance"] == pytest.approx(1.25 - 1.234)


def test_rewards_are_labelled_as_the_planner_labels_them_and_the_paper_reward_is_the_default():
    from reward_demo.locomotion import models

    assert demo.DEFAULT_REWARD == models.DEFAULT_REWARD == "paper"
    assert {name: text[0] for name, text in demo_results.REWARD_TEXT.items()} == models.REWARD_LABELS
    assert demo_results.reward_label(None) == "unknown"
    summary = demo_results.summary_json("hopper", {"seed": 0, "reward": "onpolicy"}, {})
    assert summary["reward"] == "onpolicy" and summary["reward_label"] == "on-policy fine-tuned (extension)"
    assert demo_results.summary_json("hopper", {"seed": 0}, {})["reward"] == "unknown"  # an old example


def test_reward_note_says_what_the_reward_is_and_its_steering():
    steering = {"scale": 1.0, "t_stopgrad": 0, "guidance": "mean"}
    note = demo_results.reward_note("hopper", "onpolicy", steering, ["paper", "onpolicy"])
    assert note.startswith("**on-policy fine-tuned (extension)**: this project's extension, not the paper's method")
    assert "mean guidance, scale 1, t_stopgrad 0" in note and "no on-policy extension" not in note
    note = demo_results.reward_note("halfcheetah", "paper", {"scale": 0.5, "t_stopgrad": 10}, ["paper"])
    assert note.startswith("**paper (offline)**: the paper's reward") and "input guidance, scale 0.5" in note
    assert "HalfCheetah-v5 has no on-policy extension" in note and "finetune-reward --env halfcheetah" in note
    window = {"scale": 2.0, "t_stopgrad": 0, "guidance": "mean", "t_startgrad": 10}
    note = demo_results.reward_note("hopper", "paper", window, ["paper"])
    assert "mean guidance, scale 2, t_stopgrad 0, the reward's gradient at diffusion steps t < 10" in note
    settings = {"seed": 0, "scale": 2.0, "t_stopgrad": 0, "steps": 10, "reward": "paper", **window}
    summaries = {p: {"return": 10.0, "distance": 1.0, "fell": False, "length": 10} for p in ("base", "steered")}
    assert "t_stopgrad 0, mean guidance, the reward's gradient at diffusion steps t < 10)" in demo_results.headline(
        "hopper", summaries, settings, "finished")


@pytest.fixture
def tiny_checkpoints(tmp_path, monkeypatch):
    """$REWARD_DEMO_LOCOMOTION_CHECKPOINTS: tiny Hopper models with both rewards, nothing else."""
    from locomotion_support import save_tiny_hopper_models, save_tiny_onpolicy_reward

    save_tiny_hopper_models(tmp_path)
    save_tiny_onpolicy_reward(tmp_path)
    monkeypatch.setenv("REWARD_DEMO_LOCOMOTION_CHECKPOINTS", str(tmp_path))
    return tmp_path


def test_the_reward_input_is_checked_per_env(tiny_checkpoints):
    from locomotion_support import TINY_ONPOLICY_STEERING

    assert demo.rewards_of("hopper") == ["paper", "onpolicy"]
    assert demo.check_reward("hopper", "onpolicy") == "onpolicy"
    assert demo.reward_steering("hopper", "onpolicy") == TINY_ONPOLICY_STEERING
    assert demo.reward_steering("hopper") == DEFAULT_STEERING["hopper"]  # the paper reward's
    assert demo.default_steering("onpolicy") == {"hopper": TINY_ONPOLICY_STEERING}
    with pytest.raises(ValueError, match=r"reward must be one of paper, onpolicy .*got 'best'"):
        demo.check_reward("hopper", "best")
    with pytest.raises(ValueError, match="reward must be one of paper, onpolicy"):
        demo.check_reward("hopper", None)
    (tiny_checkpoints / "hopper" / "reward_onpolicy" / "model.safetensors").unlink()
    assert demo.rewards_of("hopper") == ["paper"]
    with pytest.raises(FileNotFoundError, match="has no 'onpolicy' reward.*finetune-reward --env hopper"):
        demo.check_reward("hopper", "onpolicy")


class StopRun(Exception):
    pass


@pytest.mark.slow
def test_stream_shows_the_run_as_it_goes(one_torch_thread):
    """Every streamed update is a prefix of the finished run; learned rewards only where their window is
    complete; then the finished episodes, then their videos."""
    env = first_trained_env()
    models = demo.get_models(env)
    steps, seen = 16, []
    updates = list(demo.stream_pair(models, 5, 1.0, 0, steps, "stream-test", update_every_s=0.0,
                                    progress=lambda *args: seen.append(args)))
    *partial, planned, finished = updates
    assert len(partial) >= 2 and not planned.finished and finished.finished
    assert [u.step for u in partial] == sorted({u.step for u in partial}) and partial[-1].step <= steps
    final = finished.episodes
    assert {p: e.length for p, e in planned.episodes.items()} == {p: e.length for p, e in final.items()}
    for update in partial:
        for planner, episode in update.episodes.items():
            whole = final[planner]
            n = episode.length
            assert n <= update.step and np.array_equal(episode.env_rewards, whole.env_rewards[:n])
            assert episode.ret == pytest.approx(whole.env_rewards[:n].sum())
            assert np.array_equal(episode.qpos, whole.qpos[: n + 1])
            assert episode.distance == pytest.approx(whole.qpos[n, 0] - whole.qpos[0, 0])
            complete = n if episode.terminated else max(0, n - models.horizon + 1)
            assert len(episode.learned_rewards) == complete
            np.testing.assert_allclose(episode.learned_rewards, whole.learned_rewards[:complete], rtol=1e-4, atol=1e-4)
    for planner in demo.PLANNERS:
        check_video(finished.videos[planner], render.frame_count(final[planner].length + 1,
                                                                 render.VIEWS[env].frame_skip))
    descriptions = [d for d, *_ in seen]
    assert any(d.startswith("planning base + steered, about ") for d in descriptions)
    assert any(d.startswith("rendering the steered video, about ") for d in descriptions)
    assert all(d.endswith(" s left") for d in descriptions)


@pytest.mark.slow
def test_stream_stops_when_checked_or_closed(rollout_steps_seen, one_torch_thread):
    env = first_trained_env()
    models = demo.get_models(env)

    def check():
        if len(rollout_steps_seen) >= 3:
            raise StopRun()

    with pytest.raises(StopRun):
        list(demo.stream_pair(models, 0, 1.0, 0, 200, "stopped", check=check, update_every_s=0.0))
    time.sleep(0.5)
    assert len(rollout_steps_seen) <= 4
    rollout_steps_seen.clear()
    stream = demo.stream_pair(models, 0, 1.0, 0, 200, "closed", update_every_s=0.0)
    assert next(stream).step >= 1
    stream.close()  # the visitor went away: the rollout thread stops at its next step
    time.sleep(1.0)
    stopped_at = len(rollout_steps_seen)
    time.sleep(1.0)
    assert len(rollout_steps_seen) == stopped_at < 200
