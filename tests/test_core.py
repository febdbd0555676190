"""Unit tests of the core package on tiny models: diffusion maths, networks, checkpoints, training, CLI."""
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import reward_demo as rd
from reward_demo import gaussian as G
from reward_demo.cli import main as cli_main
from reward_demo.diffusion import GaussianDiffusion, apply_conditioning, cosine_beta_schedule
from reward_demo.networks import MLPDenoiser, TemporalUnet, UnetEncoderReward, WindowMLPReward
from reward_demo.relative_reward import reward_gradient
from reward_demo.training import TrainConfig, train

ROOT = Path(__file__).resolve().parents[1]


def tiny_unet_diffusion(cond_dim=0, predict_epsilon=False):
    net = TemporalUnet(horizon=8, transition_dim=3, dim=8, dim_mults=(1, 2), cond_dim=cond_dim)
    return GaussianDiffusion(net, (8, 3), n_timesteps=10, predict_epsilon=predict_epsilon)


def test_cosine_schedule_and_posterior_match_definitions():
    d = tiny_unet_diffusion()
    betas = cosine_beta_schedule(10)
    assert torch.all(betas > 0) and torch.all(betas < 1)
    a = torch.cumprod(1 - betas, 0)
    assert torch.allclose(d.alphas_cumprod, a)
    # the posterior q(x_{t-1} | x_t, x0) of a noise-free x0 = x_t path is consistent: t = 0 returns x0
    x0 = torch.randn(4, 8, 3)
    mean, var, _ = d.q_posterior(x0, d.q_sample(x0, torch.zeros(4, dtype=torch.long)), torch.zeros(4, dtype=torch.long))
    assert torch.allclose(mean, x0, atol=1e-3) and torch.all(var == 0)


def test_q_sample_statistics():
    d = tiny_unet_diffusion()
    x0 = torch.full((20000, 8, 3), 2.0)
    t = torch.full((20000,), 5)
    x_t = d.q_sample(x0, t)
    assert abs(x_t.mean().item() - 2.0 * d.sqrt_alphas_cumprod[5].item()) < 0.01
    assert abs(x_t.std().item() - d.sqrt_one_minus_alphas_cumprod[5].item()) < 0.01


def test_epsilon_and_x0_prediction_agree_on_the_same_denoiser():
    """An x0-predicting model and its epsilon-predicting equivalent give the same reverse mean."""
    d_x0 = GaussianDiffusion(G.ExactGaussianDenoiser(G.EXPERT_MEAN, G.EXPERT_COV, 20), (2,), 20)

    class AsEpsilon(torch.nn.Module):
        def forward(self, x_t, t, cond=None):
            x0 = d_x0.model(x_t, t)
            a = d_x0.alphas_cumprod[t][:, None]
            return (x_t - a.sqrt() * x0) / (1 - a).sqrt()

    d_eps = GaussianDiffusion(AsEpsilon(), (2,), 20, predict_epsilon=True)
    x_t, t = torch.randn(16, 2), torch.randint(0, 20, (16,))
    assert torch.allclose(d_x0.reverse_mean(x_t, t), d_eps.reverse_mean(x_t, t), atol=1e-4)


def test_ddpm_and_ddim_sample_the_data_distribution():
    """With the exact denoiser of N(0, I) both samplers reproduce it. (The posterior variance is the
    lower bound of the true reverse variance, so the spread is slightly under 1, less so as T grows.)"""
    base, _ = G.exact_models(100)
    g = torch.Generator().manual_seed(0)
    ddpm = base.sample(4000, generator=g).x
    ddim = base.ddim_sample(4000, n_steps=50, generator=g).x
    for x in (ddpm, ddim):
        assert x.mean(0).abs().max() < 0.06
        assert (x.std(0) - 1).abs().max() < 0.06
    with pytest.raises(ValueError, match="n_steps"):
        base.ddim_sample(2, n_steps=0)


def test_inpainting_conditions_hold_through_sampling():
    d = tiny_unet_diffusion(cond_dim=2)
    start = torch.tensor([[0.5, -0.25]]).expand(3, 2)
    x = d.sample(3, cond=torch.zeros(3, 2), conditions={0: start}).x
    assert torch.equal(x[:, 0, :2], start)
    x = d.ddim_sample(3, 4, cond=torch.zeros(3, 2), conditions={0: start}).x
    assert torch.equal(x[:, 0, :2], start)
    assert torch.equal(apply_conditioning(torch.zeros(3, 8, 3), {7: start})[:, 7, :2], start)


@pytest.mark.parametrize("net", [
    TemporalUnet(horizon=16, transition_dim=5, dim=8, dim_mults=(1, 2, 4), cond_dim=3),
    MLPDenoiser(event_dim=16 * 5, hidden=32, cond_dim=3),
])
def test_denoisers_keep_the_shape(net):
    x = torch.randn(2, 16, 5)
    assert net(x, torch.tensor([0, 3]), torch.randn(2, 3)).shape == x.shape


def test_rewards_are_scalar_and_window_mean():
    x = torch.randn(2, 16, 5)
    t = torch.tensor([0, 3])
    enc = UnetEncoderReward(horizon=16, transition_dim=5, dim=8, dim_mults=(1, 2, 4))
    assert enc(x, t).shape == (2,)
    win = WindowMLPReward(horizon=16, transition_dim=5, window=4, input_columns=[0, 1], hidden=16)
    assert win.window_rewards(x, t).shape == (2, 4)
    assert torch.allclose(win(x, t), win.window_rewards(x, t).mean(1))
    # columns the reward does not read get no gradient
    _, grad = reward_gradient(win, x, t)
    assert torch.all(grad[..., 2:] == 0) and grad[..., :2].abs().sum() > 0
    with pytest.raises(ValueError, match="divisible"):
        WindowMLPReward(horizon=10, transition_dim=2, window=4)
    with pytest.raises(ValueError, match="cond"):
        WindowMLPReward(horizon=4, transition_dim=2, cond_dim=2)(torch.randn(1, 4, 2), torch.zeros(1, dtype=torch.long))


def test_reward_trained_on_early_steps_reads_later_steps_at_its_last_one(tmp_path):
    x = torch.randn(3, 8, 4)
    reward = WindowMLPReward(horizon=8, transition_dim=4, input_columns=[0, 1], hidden=16, cond_dim=2, t_max=5)
    goal = torch.randn(3, 2)
    late, last, early = (reward(x, torch.full((3,), t), goal) for t in (30, 4, 3))
    assert torch.equal(late, last) and not torch.allclose(last, early)
    rd.save_pretrained(reward, tmp_path / "r")
    loaded = rd.from_pretrained(tmp_path / "r", device="cpu")
    assert loaded.t_max == 5 and torch.equal(loaded(x, torch.full((3,), 30), goal), late)
    # a reward trained on every step keeps the config it always had
    assert "t_max" not in WindowMLPReward(horizon=8, transition_dim=4).config
    with pytest.raises(ValueError, match="t_max"):
        WindowMLPReward(horizon=8, transition_dim=4, t_max=-1)


def test_noised_data_source_draws_only_steps_below_max_t():
    from reward_demo.relative_reward import NoisedDataSource

    d = tiny_unet_diffusion()
    x0 = torch.randn(64, 8, 3)
    _, t, _ = NoisedDataSource(x0, None, d, max_t=3).draw(2000, torch.Generator().manual_seed(0))
    assert set(t.tolist()) == {0, 1, 2}
    _, t, _ = NoisedDataSource(x0, None, d).draw(2000, torch.Generator().manual_seed(0))
    assert t.max().item() == d.n_timesteps - 1
    for bad in (0, d.n_timesteps + 1):
        with pytest.raises(ValueError, match="max_t"):
            NoisedDataSource(x0, None, d, max_t=bad)


def test_save_and_load_roundtrip(tmp_path):
    d = tiny_unet_diffusion(cond_dim=2)
    rd.save_pretrained(d, tmp_path / "m", metadata={"note": "x"})
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["architecture"] == "GaussianDiffusion"
    assert config["config"]["model"]["architecture"] == "TemporalUnet"
    loaded = rd.from_pretrained(tmp_path / "m", device="cpu")
    assert loaded.metadata == {"note": "x"}
    x, t, c = torch.randn(2, 8, 3), torch.tensor([1, 2]), torch.randn(2, 2)
    assert torch.equal(loaded.reverse_mean(x, t, c), d.eval().reverse_mean(x, t, c))
    # fp16 files load back as float32 with fp16 rounding only
    rd.save_pretrained(d, tmp_path / "h", dtype=torch.float16)
    half = rd.from_pretrained(tmp_path / "h", device="cpu")
    assert next(half.parameters()).dtype == torch.float32
    assert torch.allclose(half.reverse_mean(x, t, c), d.reverse_mean(x, t, c), atol=5e-2)
    assert torch.equal(half.betas, d.betas) and torch.equal(half.posterior_mean_coef1, d.posterior_mean_coef1)


def test_saved_modules_present_needs_config_and_weights_of_every_name(tmp_path):
    from reward_demo.checkpoint import saved_modules_present

    rd.save_pretrained(MLPDenoiser(2), tmp_path / "base")
    assert saved_modules_present(tmp_path, ["base"])
    assert not saved_modules_present(tmp_path, ["base", "reward"])  # reward/ missing
    (tmp_path / "reward").mkdir()
    (tmp_path / "reward" / "config.json").write_text("{}")
    assert not saved_modules_present(tmp_path, ["base", "reward"])  # reward/ has no weights


def test_loading_reports_missing_and_mismatched_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="config.json"):
        rd.from_pretrained(tmp_path)
    d = tiny_unet_diffusion()
    rd.save_pretrained(d, tmp_path / "m")
    (tmp_path / "m" / "model.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match="model.safetensors"):
        rd.from_pretrained(tmp_path / "m")
    rd.save_pretrained(d, tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    config["config"]["model"]["config"]["dim"] = 16
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="mismatched"):
        rd.from_pretrained(tmp_path / "m")
    config["architecture"] = "NoSuchNet"
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="unknown architecture"):
        rd.from_pretrained(tmp_path / "m")


def test_default_device_override(monkeypatch):
    assert rd.default_device("cpu").type == "cpu"
    monkeypatch.setenv("REWARD_DEMO_DEVICE", "cpu")
    assert rd.default_device().type == "cpu"


def _fit_points(out_dir, steps):
    data = G.sample_points(512, "base", torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    model = GaussianDiffusion(MLPDenoiser(event_dim=2, hidden=16, n_layers=1), (2,), 10)
    config = TrainConfig(steps=steps, batch_size=32, lr=1e-3, eval_every=5, save_every=5, progress=False)
    sample = lambda n, g, device: {"x0": data[torch.randint(0, 512, (n,), generator=g)]}  # noqa: E731
    return train(model, lambda m, b: m(b["x0"]), sample, config, out_dir, validation_loss=lambda m: 0.0)


def test_training_resumes_exactly(tmp_path):
    straight = _fit_points(tmp_path / "a", 20)
    _fit_points(tmp_path / "b", 10)  # stops at step 10 with a saved state
    resumed = _fit_points(tmp_path / "b", 20)  # picks up from step 10
    assert [h["step"] for h in resumed.history] == [5, 10, 15, 20]
    for p, q in zip(straight.model.parameters(), resumed.model.parameters()):
        assert torch.allclose(p, q, atol=1e-6)
    meta = rd.from_pretrained(tmp_path / "b").metadata["training"]
    assert meta["steps"] == 20 and len(meta["history"]) == 4


def test_cli_lists_commands_and_rejects_unknown(capsys):
    assert cli_main([]) == 0
    assert "gaussian train-reward" in capsys.readouterr().out
    assert cli_main(["nope", "cmd"]) == 2
    assert "unknown command" in capsys.readouterr().err


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_accelerate_launch_two_cpu_processes(tmp_path):
    """The same training command runs data-parallel under `accelerate launch` (two CPU processes)."""
    env = {**os.environ, "ACCELERATE_USE_CPU": "1", "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
           "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
           "--main_process_port", str(_free_port()), "-m", "reward_demo", "gaussian", "train-reward",
           "--steps", "30", "--algorithm", "2", "--models", "trained", "--diffusion-steps", "20",
           "--out", str(tmp_path), "--no-progress"]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    reward = rd.from_pretrained(tmp_path / "reward", device="cpu")
    assert reward.metadata["training"]["num_processes"] == 2
    assert reward(torch.randn(4, 2), torch.zeros(4, dtype=torch.long)).shape == (4,)
    # both processes held identical weights: they printed the same held-out loss (the two processes share one
    # stdout, so their lines can interleave: find the numbers, not whole lines)
    losses = re.findall(r"held-out gradient-matching loss: ([0-9.eE+-]+);", result.stdout)
    assert len(losses) == 2 and losses[0] == losses[1], result.stdout


def test_stable_mish_has_a_finite_second_derivative_where_torch_mish_overflows():
    """Gradient matching differentiates grad_x r; torch's fused Mish gives NaN there for large pre-activations."""
    from reward_demo.networks import StableMish, UnetEncoderReward, with_stable_mish

    x = torch.tensor([-200.0, -5.0, 0.3, 5.0, 200.0], requires_grad=True)
    second = []
    for act in (torch.nn.Mish(), StableMish()):
        (g,) = torch.autograd.grad(act(x).sum(), x, create_graph=True)
        (gg,) = torch.autograd.grad(g.sum(), x)
        second.append(gg)
    assert torch.isnan(second[0]).any() and torch.isfinite(second[1]).all()
    assert torch.allclose(second[0][1:4], second[1][1:4], atol=1e-6)

    torch.manual_seed(0)
    reward = UnetEncoderReward(8, 3, dim=8, dim_mults=(1, 2))
    inputs = torch.randn(4, 8, 3), torch.randint(0, 10, (4,))
    before = reward(*inputs)
    with_stable_mish(reward)
    assert not any(isinstance(m, torch.nn.Mish) for m in reward.modules())
    assert torch.allclose(reward(*inputs), before, atol=1e-6)
