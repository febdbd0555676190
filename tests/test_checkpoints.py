"""Every shipped checkpoint under checkpoints/ loads (the JSON layouts written before and after networks
recorded their own constructor arguments) and gives the outputs it gave when it was shipped, on seeded
inputs; saving it again with ``save_pretrained`` and loading that gives the same outputs."""
from pathlib import Path

import pytest
import torch

import reward_demo.images.embedded.model  # noqa: F401  (registers ConceptClassifier)
import reward_demo.images.reward  # noqa: F401  (registers the latent rewards)
from reward_demo.checkpoint import from_pretrained, read_config, save_pretrained
from reward_demo.locomotion.policy import load_actor, save_actor

ROOT = Path(__file__).resolve().parents[1] / "checkpoints"

#: per checkpoint folder: sums and sums of absolute values of its outputs on ``example_input``, per sample
#: (recorded from the checkpoints as shipped, torch 2.13, CPU)
EXPECTED = {
    "images/embedded_sd_v2/concept_classifier": [-1340.317, -1371.882, 1670.578, 1622.624],
    "images/reward": [-30.08503, -38.16279, 30.08503, 38.16279],
    "locomotion/halfcheetah/base": [-7.8581, -1.368005, 51.02551, 4.276433],
    "locomotion/halfcheetah/expert": [-16.55112, -1.89865, 61.42163, 4.634589],
    "locomotion/halfcheetah/expert_policy": [3.602563, 3.938675, 5.602398, 5.938674],
    "locomotion/halfcheetah/reward": [89.22992, 52.64996, 89.22992, 52.64996],
    "locomotion/hopper/base": [-8.73172, -4.006643, 87.494, 11.48156],
    "locomotion/hopper/expert": [-17.80759, -0.8704729, 259.4297, 10.5281],
    "locomotion/hopper/expert_policy": [-1, -0.8896091, 3, 2.889609],
    "locomotion/hopper/reward": [406.47647, 285.0773, 406.47647, 285.0773],
    "locomotion/hopper/reward_onpolicy": [-85.71318, -31.97135, 85.71318, 31.97135],
    "locomotion/walker2d/base": [0.6055192, 3.505203, 188.9758, 20.86877],
    "locomotion/walker2d/base_6k": [-7.262626, -1.028967, 155.3445, 14.36104],
    "locomotion/walker2d/expert": [-52.28654, -5.345122, 260.2071, 18.95937],
    "locomotion/walker2d/expert_policy": [-1.8014, -0.8672259, 5.801399, 5.132011],
    "locomotion/walker2d/reward": [-17.03547, 217.6553, 17.03547, 217.6553],
    "locomotion/walker2d/reward_onpolicy": [12.81624, 99.55201, 12.81624, 99.55201],
    "maze/large/base": [10.50174, 0.01750012, 21.00187, 2.732718],
    "maze/large/expert": [9.160112, -0.4372451, 18.32794, 3.485616],
    "maze/large/reward": [-0.2668239, 2.87932, 0.2668239, 2.87932],
    "maze/medium/base": [8.658631, 0.02230461, 25.42858, 2.722852],
    "maze/medium/expert": [9.30406, -0.5541609, 20.88736, 3.483174],
    "maze/medium/reward": [-4.550865, -9.742421, 4.550865, 9.742421],
    "maze/umaze/base": [8.312358, 0.3248739, 13.22285, 2.766379],
    "maze/umaze/expert": [23.73614, -0.01684456, 30.01049, 3.474466],
    "maze/umaze/reward": [3.726742, 0.002979264, 3.726742, 0.002979264],
}

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]


def shipped_folders():
    """Our checkpoint folders (diffusers' own unet/vae folders excepted)."""
    return sorted(str(p.parent.relative_to(ROOT)) for p in ROOT.rglob("config.json")
                  if p.parent.name not in ("unet", "vae"))


def load(folder: Path):
    if folder.name == "expert_policy":
        return load_actor(folder)[0]
    return from_pretrained(folder, "cpu")


def example_input(model, generator):
    """Seeded inputs of the right shape for a loaded model, and the output to compare."""
    name = type(model).__name__
    randn = lambda *shape: torch.randn(*shape, generator=generator)  # noqa: E731
    if name == "ExpertActor":
        return lambda: model(randn(2, model.linears[0].in_features))
    if name == "ConceptClassifier":
        return lambda: model(randn(2, 3, 64, 64))
    if name == "LatentUnetEncoderReward":
        c, s = model.config["in_channels"], model.config["sample_size"]
        return lambda: model(randn(2, c, s, s), torch.tensor([0.0, 500.0]))
    net = model.model if name == "GaussianDiffusion" else model
    cond_dim = net.config.get("cond_dim", 0)
    cond = randn(2, cond_dim) if cond_dim else None
    if name == "GaussianDiffusion":
        t = torch.tensor([0, model.n_timesteps - 1])
        return lambda: model.reverse_mean(randn(2, *model.event_shape), t, cond)
    t = torch.tensor([0, 5])
    return lambda: model(randn(2, net.config["horizon"], net.config["transition_dim"]), t, cond)


def outputs(model) -> list:
    with torch.no_grad():
        y = example_input(model, torch.Generator().manual_seed(0))().float().reshape(2, -1)
    return torch.cat([y.sum(1), y.abs().sum(1)]).tolist()


def test_every_shipped_checkpoint_is_covered():
    assert shipped_folders() == sorted(EXPECTED)


@pytest.mark.parametrize("folder", shipped_folders())
def test_shipped_checkpoint_loads_and_gives_its_outputs(folder, tmp_path):
    model = load(ROOT / folder)
    assert outputs(model) == pytest.approx(EXPECTED[folder], rel=1e-4, abs=1e-5)
    if folder.endswith("expert_policy"):
        save_actor(model, load_actor(ROOT / folder)[1], tmp_path / "again")
        assert load_actor(tmp_path / "again")[1] == load_actor(ROOT / folder)[1]
    else:
        save_pretrained(model, tmp_path / "again", metadata=model.metadata)
        # the recorded constructor arguments are the shipped JSON layout, key for key
        assert read_config(tmp_path / "again")["config"] == read_config(ROOT / folder)["config"]
    again = load(tmp_path / "again")
    assert type(again) is type(model)
    assert outputs(again) == outputs(model)
