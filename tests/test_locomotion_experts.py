"""Locomotion experts: a tiny CrossQ run on Hopper (snapshot logic, datasets, export, resume) in a few seconds."""

import numpy as np
import pytest

pytest.importorskip("sb3_contrib")
pytest.importorskip("gymnasium")

from reward_demo.locomotion.data import (  # noqa: E402
    DATASET_KEYS,
    NEXT_ROWS,
    env_key,
    episode_returns,
    load_dataset,
    normalized_score,
    save_dataset,
)
from reward_demo.locomotion.experts import ExpertTrainArgs, load_expert_policy, train_expert  # noqa: E402
from reward_demo.locomotion.policy import actor_from_sb3, load_actor, policy_fn, save_actor  # noqa: E402


def tiny_args(tmp_path, **overrides):
    values = dict(env="Hopper-v5", total_steps=400, eval_every=200, eval_episodes=1, final_eval_episodes=1,
                  medium_replay_score=-1e9, medium_replay_min_steps=300, medium_replay_min_distance=-1e9,
                  expert_steps=300, expert_noise=0.1, pi_arch=(16,), qf_arch=(16,), batch_size=32,
                  learning_starts=100, data_root=tmp_path / "data", out=tmp_path / "ckpt",
                  runs_root=tmp_path / "runs")
    values.update(overrides)
    return ExpertTrainArgs(**values)


def check_dataset(dataset, n):
    assert set(dataset) == set(DATASET_KEYS)
    assert dataset["observations"].shape == dataset["next_observations"].shape == (n, 11)
    assert dataset["actions"].shape == (n, 3)
    for key in ("rewards", "terminals", "timeouts"):
        assert dataset[key].shape == (n,)
    assert dataset["terminals"].dtype == bool and dataset["timeouts"].dtype == bool
    assert not (dataset["terminals"] & dataset["timeouts"]).any()
    assert np.abs(dataset["actions"]).max() <= 1.0
    # consecutive transitions chain, except across episode ends
    ends = dataset["terminals"] | dataset["timeouts"]
    inside = ~ends[:-1]
    np.testing.assert_array_equal(dataset["next_observations"][:-1][inside], dataset["observations"][1:][inside])


def test_dataset_files_store_next_observations_only_where_an_episode_ends(tmp_path):
    rng = np.random.default_rng(0)
    observations = rng.normal(size=(9, 3)).astype(np.float32)
    terminals = np.zeros(9, bool)
    terminals[[3, 8]] = True
    next_observations = np.concatenate([observations[1:], observations[-1:]])
    next_observations[[3, 8]] = rng.normal(size=(2, 3))  # the observation each episode ended in
    dataset = {"observations": observations, "actions": rng.normal(size=(9, 2)).astype(np.float32),
               "rewards": rng.normal(size=9).astype(np.float32), "next_observations": next_observations,
               "terminals": terminals, "timeouts": np.zeros(9, bool)}
    save_dataset(dataset, tmp_path / "d.npz")
    with np.load(tmp_path / "d.npz") as stored:
        assert "next_observations" not in stored.files and list(stored[NEXT_ROWS]) == [3, 8]
    loaded = load_dataset(tmp_path / "d.npz")
    assert set(loaded) == set(dataset)
    for key, value in dataset.items():
        np.testing.assert_array_equal(loaded[key], value)
        assert loaded[key].dtype == value.dtype
    # files written in the full form still load as they are
    np.savez_compressed(tmp_path / "full.npz", **dataset)
    np.testing.assert_array_equal(load_dataset(tmp_path / "full.npz")["next_observations"], next_observations)


def test_env_names_and_scores():
    assert env_key("Hopper-v5") == env_key("hopper") == "hopper"
    assert env_key("Walker2d") == "walker2d"
    assert normalized_score("hopper", 3234.3) == pytest.approx(100.0)
    assert normalized_score("halfcheetah", -280.178953) == pytest.approx(0.0)
    for bad in ("Ant-v5", "", "maze"):
        with pytest.raises(ValueError, match="unknown locomotion environment"):
            env_key(bad)
    with pytest.raises(ValueError, match="unknown locomotion environment"):
        load_expert_policy("humanoid")


def test_tiny_run_snapshot_datasets_export_and_resume(tmp_path):
    summary = train_expert(tiny_args(tmp_path))
    # snapshot: first evaluation at or after medium_replay_min_steps (step 400), every transition up to it
    medium = load_dataset(tmp_path / "data" / "hopper" / "medium_replay.npz")
    check_dataset(medium, 400)
    assert summary["medium_replay"]["snapshot_step"] == 400
    assert summary["medium_replay"]["episodes"] == len(episode_returns(medium)) > 0
    assert medium["terminals"].any()  # random Hopper falls
    expert = load_dataset(tmp_path / "data" / "hopper" / "expert.npz")
    check_dataset(expert, 300)
    assert expert["timeouts"][-1] or expert["terminals"][-1]
    # committed-size copy next to the exported policy
    assert (tmp_path / "ckpt" / "hopper" / "medium_replay.npz").is_file()
    _, config = load_actor(tmp_path / "ckpt" / "hopper" / "expert_policy")
    assert config["obs_dim"] == 11 and config["action_dim"] == 3 and config["hidden"] == [16]
    assert config["evaluation"]["episodes"] == 1 and "return_mean" in config["evaluation"]
    policy = load_expert_policy("hopper", root=tmp_path / "ckpt")
    actions = policy(expert["observations"][:7])
    assert actions.shape == (7, 3) and actions.dtype == np.float32

    # resume: a longer run continues from step 400; the snapshot is not retaken
    summary = train_expert(tiny_args(tmp_path, total_steps=600))
    assert [p["step"] for p in summary["curve"]] == [200, 400, 600]
    assert summary["medium_replay"]["snapshot_step"] == 400
    check_dataset(load_dataset(tmp_path / "data" / "hopper" / "medium_replay.npz"), 400)

    # skip_training: re-export and re-record only (new expert size and noise), no training step
    summary = train_expert(tiny_args(tmp_path, total_steps=600, skip_training=True, expert_steps=250, expert_noise=0.0))
    assert [p["step"] for p in summary["curve"]] == [200, 400, 600]
    assert summary["expert"]["transitions"] == 250 and summary["expert"]["noise_std"] == 0.0
    check_dataset(load_dataset(tmp_path / "data" / "hopper" / "expert.npz"), 250)

    # a fresh clone has only the exported policy: record-expert rebuilds the same expert data from it
    from reward_demo.locomotion.experts import RecordExpertArgs, record_expert_command

    summary = record_expert_command(RecordExpertArgs(env="hopper", data_root=tmp_path / "fresh", out=tmp_path / "ckpt"))
    assert summary["transitions"] == 250 and summary["noise_std"] == 0.0
    again = load_dataset(tmp_path / "fresh" / "hopper" / "expert.npz")
    before = load_dataset(tmp_path / "data" / "hopper" / "expert.npz")
    for key in DATASET_KEYS:
        np.testing.assert_array_equal(again[key], before[key])
    with pytest.raises(FileNotFoundError, match="no expert policy"):
        record_expert_command(RecordExpertArgs(env="walker2d", data_root=tmp_path / "fresh", out=tmp_path / "ckpt"))


def test_safetensors_export_gives_sb3_actions(tmp_path):
    import gymnasium as gym
    import torch
    from sb3_contrib import CrossQ

    torch.manual_seed(0)
    model = CrossQ("MlpPolicy", gym.make("Hopper-v5"), learning_starts=50, batch_size=32, seed=1, device="cpu",
                   policy_kwargs=dict(net_arch=dict(pi=[32, 32], qf=[16])))
    model.learn(150)  # BatchRenorm running statistics and weights move away from their initial values
    actor, config = actor_from_sb3(model)
    save_actor(actor, config, tmp_path / "hopper" / "expert_policy")
    loaded, _ = load_actor(tmp_path / "hopper" / "expert_policy")
    obs = model.replay_buffer.observations[:100, 0]
    expected, _ = model.predict(obs, deterministic=True)
    np.testing.assert_allclose(policy_fn(loaded)(obs), expected, rtol=0, atol=1e-6)
    np.testing.assert_allclose(load_expert_policy("Hopper-v5", root=tmp_path)(obs), expected, rtol=0, atol=1e-6)
