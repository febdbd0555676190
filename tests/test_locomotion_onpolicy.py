"""On-policy reward fine-tuning (``locomotion finetune-reward``) on tiny random Hopper models: the batch mix, the
state recorder, resuming gives the weights of an uninterrupted run, and the loader plans with the result when it is
asked for it (``reward="onpolicy"``; the paper's reward stays the default)."""
import numpy as np
import pytest
import torch

pytest.importorskip("gymnasium")

from locomotion_support import OBS, save_random_datasets, save_tiny_hopper_models  # noqa: E402
from reward_demo.locomotion.models import (
    DEFAULT_STEERING,
    load_locomotion_models,
    models_from_folder,
    steering_defaults,
)
from reward_demo.locomotion.onpolicy import (  # noqa: E402
    FinetuneRewardArgs,
    MixedStateSource,
    StateRecorder,
    finetune_reward_command,
    offline_windows,
)
from reward_demo.locomotion.train import BalancedWindowSource  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def tiny_setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("onpolicy")
    return save_tiny_hopper_models(root / "models"), save_random_datasets(root / "data")


def test_mixed_source_draws_the_asked_fraction_from_the_collected_states(tiny_setup):
    models_root, data_root = tiny_setup
    models = models_from_folder("hopper", models_root / "hopper", "cpu")
    windows = offline_windows(models, data_root)
    offline = BalancedWindowSource(windows[("base", "train")], windows[("expert", "train")], models.base, OBS)
    states = torch.full((5, models.horizon, OBS + 3), 1000.0)  # far outside any noised window: recognisable
    ts = torch.full((5,), 7)
    generator = torch.Generator().manual_seed(0)
    x, t, cond = MixedStateSource(offline, states, ts, 0.25).draw(128, generator)
    online = (x == 1000.0).flatten(1).all(1)
    assert x.shape == (128, models.horizon, OBS + 3) and cond is None
    assert int(online.sum()) == 32 and (t[online] == 7).all()
    x, _, _ = MixedStateSource(offline, states[:0], ts[:0], 0.25).draw(16, generator)  # nothing collected yet
    assert not (x == 1000.0).flatten(1).all(1).any()
    with pytest.raises(ValueError, match="online_fraction must be in"):
        MixedStateSource(offline, states, ts, 1.5)


def test_state_recorder_keeps_about_the_fraction_it_is_told():
    recorder = StateRecorder(0.25, np.random.default_rng(0))
    for step in range(20):
        recorder(torch.randn(100, 4, 14), torch.full((100,), step))
    x, t = recorder.states()
    assert 400 < len(x) < 600 and x.shape[1:] == (4, 14) and len(t) == len(x)
    assert set(t.tolist()) == set(range(20))
    with pytest.raises(ValueError, match="keep must be in"):
        StateRecorder(0.0, np.random.default_rng(0))
    with pytest.raises(RuntimeError, match="no reverse-chain state"):
        StateRecorder(0.5, np.random.default_rng(0)).states()


def _args(models_root, data_root, work, **changes) -> FinetuneRewardArgs:
    small = dict(env="hopper", checkpoints=models_root, data_root=data_root, work=work, rounds=2, episodes=2,
                 collect_steps=3, val_collect_episodes=1, steps=4, batch_size=8, buffer=16, val_episodes=1, lr=1e-3)
    return FinetuneRewardArgs(**{**small, **changes})


def _weights(folder):
    from safetensors.torch import load_file

    return load_file(str(folder / "model.safetensors"))


@pytest.mark.slow
def test_finetune_reward_resumes_to_the_weights_of_one_run_and_is_planned_with(tiny_setup, tmp_path):
    import shutil

    models_root, data_root = tiny_setup
    one_go, resumed = tmp_path / "one_go", tmp_path / "resumed"
    for root in (one_go, resumed):
        shutil.copytree(models_root, root / "models")
    target = finetune_reward_command(_args(one_go / "models", data_root, one_go / "work"))
    finetune_reward_command(_args(resumed / "models", data_root, resumed / "work", rounds=1))
    assert (resumed / "work" / "hopper" / "round_1").is_dir() and not (resumed / "work" / "hopper" / "round_2").exists()
    again = finetune_reward_command(_args(resumed / "models", data_root, resumed / "work"))  # resumes after round 1
    first, second = _weights(target), _weights(again)
    assert first.keys() == second.keys() and all(torch.equal(first[k], second[k]) for k in first)
    offline = _weights(one_go / "models" / "hopper" / "reward")
    assert any(not torch.equal(first[k], offline[k]) for k in first), "fine-tuning changed nothing"

    from reward_demo.checkpoint import read_config

    meta = read_config(target)["metadata"]
    assert meta["steering"] == {"scale": 1.0, "t_stopgrad": 0, "guidance": "mean"}
    assert "finetune-reward --env hopper --rounds 2" in meta["command"] and len(meta["finetuning"]["rounds"]) == 3
    models = load_locomotion_models("hopper", str(one_go / "models"), "cpu", reward="onpolicy")
    assert models.defaults == meta["steering"] == steering_defaults("hopper", str(one_go / "models"), reward="onpolicy")
    assert all(torch.equal(v.float(), first[k].float()) for k, v in models.reward.state_dict().items())
    offline_models = load_locomotion_models("hopper", str(one_go / "models"), "cpu")  # the default: not preferred
    assert offline_models.reward_name == "paper" and offline_models.defaults == DEFAULT_STEERING["hopper"]
    assert all(torch.equal(v.float(), offline[k].float()) for k, v in offline_models.reward.state_dict().items())
    with pytest.raises(ValueError, match="other lr"):
        finetune_reward_command(_args(resumed / "models", data_root, resumed / "work", lr=5e-4))


@pytest.mark.parametrize("change, message", [
    (dict(rounds=0), "rounds must be >= 1"), (dict(scale=0.0), "scale must be a finite number > 0"),
    (dict(keep=2.0), "keep must be in"), (dict(online_fraction=-0.1), "online_fraction must be in"),
    (dict(val_episodes=-1), "val_episodes must be >= 0")])
def test_bad_arguments_are_named(tiny_setup, tmp_path, change, message):
    with pytest.raises(ValueError, match=message):
        finetune_reward_command(_args(*tiny_setup, tmp_path, **change))
