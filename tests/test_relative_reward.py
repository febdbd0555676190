"""Correctness of the relative reward on a case with a known answer (two Gaussians).

(1) exact reverse means: the learned r(., t) equals the log ratio of the noised marginals up to a
    positive scale and a constant (Pearson >= 0.99, gradient cosine >= 0.95), with both algorithms;
    at small T, where mu_B is far from x_t, its gradient field equals the exact one, which depends on
    evaluating the gradient at mu_B;
(2) small trained diffusion models: the same at a looser bound (see TRAINED_* below);
(3) steering the base model with the learned reward moves its samples to the expert's, and scale 0
    leaves them exactly where they were.
"""
import pytest
import torch
import torch.nn.functional as F

from reward_demo import gaussian as G
from reward_demo.relative_reward import reward_gradient, train_relative_reward
from reward_demo.steering import steered_sample
from reward_demo.training import TrainConfig

T = 100
# The trained denoisers' error on the expert-minus-base x0 difference is ~0.03-0.05 at every t
# (measured), while the true difference shrinks like (1 - a_t) / sqrt(a_t) as t -> 0. Measured
# error/signal: t=5 1.26, t=10 0.44, t=15 0.24, t=25 0.06, t=50 0.03. The relative reward can only be
# recovered where the signal dominates, so the trained-model bounds are checked from t=15 on.
TRAINED_TIMESTEPS = (15, 25, 50)
TRAINED_MIN_PEARSON = 0.95
TRAINED_MIN_MEDIAN_COSINE = 0.95


def held_out_points(base, t, n=4000, seed=123):
    g = torch.Generator().manual_seed(seed)
    x0 = torch.cat([G.sample_points(n // 2, "base", g), G.sample_points(n // 2, "expert", g)])
    tt = torch.full((n,), t)
    return base.q_sample(x0, tt, torch.randn(x0.shape, generator=g)), tt


def agreement(reward, base, t, n_timesteps=T):
    """(Pearson of r with the log ratio, cosine of their gradients) on fresh noised points."""
    x_t, tt = held_out_points(base, t)
    value, grad = reward_gradient(reward, x_t, tt)
    x = x_t.double().requires_grad_(True)
    log_ratio = G.log_density_ratio(x, t, n_timesteps)
    (true_grad,) = torch.autograd.grad(log_ratio.sum(), x)
    pearson = torch.corrcoef(torch.stack([value.detach().double(), log_ratio.detach()]))[0, 1].item()
    cosine = F.cosine_similarity(grad.double(), true_grad, dim=1)
    return pearson, cosine


def fit(base, expert, algorithm, steps=2000, seed=0, n_timesteps=T):
    torch.manual_seed(seed)
    source, val_source = G.build_sources(base, expert, algorithm, seed)
    config = TrainConfig(steps=steps, batch_size=256, lr=1e-3, eval_every=steps, progress=False, seed=seed)
    return train_relative_reward(G.make_reward(), base, expert, source, val_source, config)


@pytest.fixture(scope="module")
def exact():
    return G.exact_models(T)


@pytest.fixture(scope="module")
def trained():
    config = TrainConfig(steps=3000, batch_size=256, lr=1e-3, eval_every=3000, progress=False)
    return G.train_point_diffusion("base", T, config), G.train_point_diffusion("expert", T, config)


@pytest.mark.parametrize("algorithm", [1, 2])
def test_exact_means_recover_log_density_ratio(exact, algorithm):
    base, expert = exact
    result = fit(base, expert, algorithm)
    assert result.history[-1]["val_loss"] < result.history[0]["train_loss"] or result.history[-1]["val_loss"] < 1e-6
    for t in (5, 25, 50):
        pearson, cosine = agreement(result.model, base, t)
        assert pearson >= 0.99, f"t={t}: Pearson {pearson:.4f}"
        assert cosine.mean() >= 0.95, f"t={t}: mean gradient cosine {cosine.mean():.4f}"


def test_gradient_field_is_exact_at_small_T():
    """With T = 5, mu_B = alpha_t x_t is far from x_t (alpha ~ 0.7 and 0.5 at t = 2, 3), and with a
    narrow expert the target mu_E - mu_B changes fast with x. So a reward whose gradient was matched at
    x_t instead of mu_B is off by 23-30 % here (computed in closed form), as are a flipped sign (200 %)
    and a wrong target. For the isotropic base, the exact answer is grad r*(mu_B(x)) = mu_E(x) - mu_B(x)."""
    from reward_demo.relative_reward import NoisedDataSource

    n_timesteps, expert_mean, expert_cov = 5, (0.3, -0.3), ((0.02, 0.0), (0.0, 0.02))
    base, expert = G.exact_models(n_timesteps, expert_mean, expert_cov)

    def mixture(seed):
        g = torch.Generator().manual_seed(seed)
        narrow = torch.tensor(expert_mean) + 0.02 ** 0.5 * torch.randn(10000, 2, generator=g)
        return torch.cat([G.sample_points(10000, "base", g), narrow])

    torch.manual_seed(0)
    config = TrainConfig(steps=3000, batch_size=256, lr=1e-3, eval_every=3000, progress=False)
    reward = train_relative_reward(G.make_reward(), base, expert, NoisedDataSource(mixture(0), None, base),
                                   NoisedDataSource(mixture(1), None, base), config).model
    x0 = mixture(2)
    for t in (2, 3):
        tt = torch.full((len(x0),), t)
        x_t = base.q_sample(x0, tt)
        alpha = base.posterior_mean_coef1[t] * base.sqrt_alphas_cumprod[t] + base.posterior_mean_coef2[t]
        y = base.reverse_mean(x_t, tt)  # the points the reward's gradient was matched at
        assert torch.allclose(y, alpha * x_t, atol=1e-5) and alpha < 0.75
        exact_grad = expert.reverse_mean(x_t, tt) - y
        _, grad = reward_gradient(reward, y, tt)
        relative_error = ((grad - exact_grad).norm(dim=1) / exact_grad.norm(dim=1)).median().item()
        assert relative_error < 0.1, f"t={t}: median relative gradient error {relative_error:.3f}"


@pytest.mark.parametrize("algorithm", [1, 2])
def test_trained_models_recover_log_density_ratio(trained, algorithm):
    base, expert = trained
    result = fit(base, expert, algorithm)
    for t in TRAINED_TIMESTEPS:
        pearson, cosine = agreement(result.model, base, t)
        assert pearson >= TRAINED_MIN_PEARSON, f"t={t}: Pearson {pearson:.4f}"
        assert cosine.median() >= TRAINED_MIN_MEDIAN_COSINE, f"t={t}: median cosine {cosine.median():.4f}"


def test_steering_moves_base_samples_to_expert(trained):
    base, expert = trained
    reward = fit(base, expert, 2).model
    n = 4000
    unguided = base.sample(n, generator=torch.Generator().manual_seed(5)).x
    zero = steered_sample(base, reward, n, scale=0.0, generator=torch.Generator().manual_seed(5)).x
    assert torch.equal(zero, unguided), "scale 0 must leave the base samples unchanged"

    steered = steered_sample(base, reward, n, scale=1.0, generator=torch.Generator().manual_seed(5)).x
    expert_mean, base_mean = torch.tensor(G.EXPERT_MEAN), unguided.mean(0)
    gap = (expert_mean - base_mean).norm()
    covered = ((steered.mean(0) - base_mean) @ (expert_mean - base_mean) / gap**2).item()
    remaining = (steered.mean(0) - expert_mean).norm() / gap
    assert covered > 0.8, f"steering covered only {covered:.2f} of the mean gap"
    assert remaining < 0.2, f"steered mean is still {remaining:.2f} of the gap away from the expert mean"
    # the guidance is only active from t_stopgrad on: stopping it early leaves part of the gap
    partial = steered_sample(base, reward, n, scale=1.0, t_stopgrad=50, generator=torch.Generator().manual_seed(5)).x
    partial_covered = ((partial.mean(0) - base_mean) @ (expert_mean - base_mean) / gap**2).item()
    assert 0.0 < partial_covered < covered


def test_per_t_weights_equalise_the_target_size_of_every_step(exact):
    from reward_demo.relative_reward import TargetBuffer, per_t_weights

    base, expert = exact
    source, _ = G.build_sources(base, expert, 1, 0)
    buffer = TargetBuffer(source, base, expert, 8192)
    buffer.fill(torch.Generator().manual_seed(0))
    weights = per_t_weights(buffer, T)
    assert weights.shape == (T,) and torch.all(weights > 0)
    assert abs(weights[buffer.t].mean().item() - 1.0) < 1e-5
    energy = buffer.target.pow(2).mean(1)
    weighted = torch.stack([(weights[t] * energy[buffer.t == t]).mean() for t in (0, 10, 50, 99)])
    raw = torch.stack([energy[buffer.t == t].mean() for t in (0, 10, 50, 99)])
    assert raw.max() / raw.min() > 2, "the test needs steps whose targets differ in size"
    assert torch.allclose(weighted, weighted[0].expand(4), rtol=1e-4)


def test_per_t_normalised_loss_still_recovers_log_density_ratio(exact):
    base, expert = exact
    torch.manual_seed(0)
    source, val_source = G.build_sources(base, expert, 1, 0)
    config = TrainConfig(steps=2000, batch_size=256, lr=1e-3, eval_every=2000, progress=False, seed=0)
    reward = train_relative_reward(G.make_reward(), base, expert, source, val_source, config,
                                   normalize_per_t=True).model
    for t in (5, 25, 50):
        pearson, cosine = agreement(reward, base, t)
        assert pearson >= 0.99, f"t={t}: Pearson {pearson:.4f}"
        assert cosine.mean() >= 0.95, f"t={t}: mean gradient cosine {cosine.mean():.4f}"


def test_free_entries_leave_out_exactly_the_inpainted_ones():
    from reward_demo.relative_reward import free_entries

    like = torch.zeros(3, 4, 5)
    free = free_entries(like, {0: torch.ones(3, 2), 2: torch.ones(3, 5)})
    assert free.shape == like.shape and free.dtype == torch.bool
    assert not free[:, 0, :2].any() and not free[:, 2].any()
    assert free[:, 0, 2:].all() and free[:, 1].all() and free[:, 3].all()
    assert int((~free).sum()) == 3 * (2 + 5)
    assert free_entries(like, None) is None and free_entries(like, {}) is None


class ObservationOnlyReward(torch.nn.Module):
    """r(x) = sum of the squared start observation (x[:, 0, :2]): its gradient lives on the fixed entries only."""

    def forward(self, x, t, cond=None):
        return x[:, 0, :2].pow(2).sum(1)


def test_matching_on_free_entries_ignores_the_gradient_on_fixed_ones():
    from reward_demo.relative_reward import free_entries, gradient_matching_loss

    mu = torch.randn(8, 4, 5)
    target = torch.zeros_like(mu)
    t = torch.zeros(8, dtype=torch.long)
    free = free_entries(mu, {0: mu[:, 0, :2]})
    reward = ObservationOnlyReward()
    # matched on every entry, a reward that depends on the fixed observation is penalised for it ...
    assert gradient_matching_loss(reward, mu, target, t) > 0.1
    # ... on the free entries only, its gradient there is not part of the loss
    assert float(gradient_matching_loss(reward, mu, target, t, free=free)) == 0.0
    # and an error on a free entry still counts, averaged over the free entries of each sample
    target[:, 1, 0] = 1.0
    expected = 1.0 / int(free[0].sum())
    assert abs(float(gradient_matching_loss(reward, mu, target, t, free=free)) - expected) < 1e-6


class ShiftedMean:
    """A stand-in model whose reverse mean is x_t + shift (all TargetBuffer needs of a model)."""

    def __init__(self, shift):
        self.shift = shift

    def reverse_mean(self, x_t, t, cond=None):
        return x_t + self.shift


class WindowSource:
    def draw(self, n, generator):
        return torch.randn(n, 4, 5, generator=generator), torch.zeros(n, dtype=torch.long), None


@pytest.mark.parametrize("match_fixed", [True, False])
def test_target_buffer_marks_free_entries_only_when_the_fixed_ones_are_not_matched(match_fixed):
    from reward_demo.relative_reward import TargetBuffer

    buffer = TargetBuffer(WindowSource(), ShiftedMean(0.0), ShiftedMean(1.0), 16,
                          conditions_fn=lambda x_t: {0: x_t[:, 0, :2].clone()}, match_fixed=match_fixed)
    buffer.fill(torch.Generator().manual_seed(0))
    batch = buffer.batch(4, torch.Generator().manual_seed(1))
    # inpainting makes the target 0 on the fixed entries and 1 elsewhere
    assert torch.all(batch["target"][:, 0, :2] == 0)
    assert torch.allclose(batch["target"][:, 1:], torch.ones(4, 3, 5))
    if match_fixed:
        assert batch["free"] is None
    else:
        assert not batch["free"][:, 0, :2].any() and batch["free"][:, 1:].all()
