"""``Network.replay``: recorded graphs give bitwise the eager outputs and gradients, and are dropped whenever
they could go stale."""
import copy

import pytest
import torch

from reward_demo.networks import MLPDenoiser, TemporalUnet, UnetEncoderReward, WindowMLPReward, with_stable_mish
from reward_demo.relative_reward import reward_gradient

HORIZON, FEATURES = 8, 5


def tiny_networks():
    torch.manual_seed(0)
    return [TemporalUnet(HORIZON, FEATURES, dim=8, dim_mults=(1, 2)),
            TemporalUnet(HORIZON, FEATURES, dim=8, dim_mults=(1, 2), cond_dim=3),
            UnetEncoderReward(HORIZON, FEATURES, dim=8, dim_mults=(1, 2)),
            WindowMLPReward(HORIZON, FEATURES, window=2, hidden=16),
            MLPDenoiser(HORIZON * FEATURES, hidden=16)]


def inputs(net, batch, seed):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, HORIZON, FEATURES, generator=generator)
    t = torch.randint(0, 20, (batch,), generator=generator)
    cond = torch.randn(batch, 3, generator=generator) if getattr(net, "config", {}).get("cond_dim") else None
    return x, t, cond


@pytest.mark.parametrize("net", tiny_networks(), ids=lambda n: type(n).__name__)
def test_replayed_calls_are_bitwise_the_eager_ones(net):
    eager = copy.deepcopy(net).eval()
    net.eval().replay()
    for batch in (1, 3, 1):  # a new shape records a new graph; an old one is replayed
        for seed in range(4):  # other values at a recorded shape (the graph must not have baked them in)
            x, t, cond = inputs(net, batch, seed)
            with torch.no_grad():
                assert torch.equal(net(x, t, cond), eager(x, t, cond))
    assert len(net._graphs) == 2
    # each recorded graph is one flat graph: no call into a submodule's method is left to interpret
    assert all("prim::CallMethod" not in str(graph.graph) for graph in net._graphs.values())


@pytest.mark.parametrize("stable_mish", [False, True])
def test_replayed_reward_gradient_is_bitwise_the_eager_one(stable_mish):
    reward = UnetEncoderReward(HORIZON, FEATURES, dim=8, dim_mults=(1, 2)).eval()
    if stable_mish:  # the optimising TorchScript executor differentiates its ops by other formulas after a call
        with_stable_mish(reward)
    eager = copy.deepcopy(reward).replay(False)
    reward.replay()
    for seed in range(6):  # past the executor's profiling calls
        x, t, _ = inputs(reward, 2, seed % 2)
        assert torch.equal(reward_gradient(reward, x, t)[1], reward_gradient(eager, x, t)[1])


def test_graphs_are_dropped_when_they_could_go_stale():
    net = TemporalUnet(HORIZON, FEATURES, dim=8, dim_mults=(1, 2)).eval().replay()
    x, t, _ = inputs(net, 2, 0)
    net(x, t)
    # new weights: a replay of the old graph would give the old output
    other = TemporalUnet(HORIZON, FEATURES, dim=8, dim_mults=(1, 2))
    net.load_state_dict(other.state_dict())
    assert torch.equal(net(x, t), other.eval()(x, t))
    net(x, t)
    assert len(net._graphs) == 1
    net.eval()  # already in eval mode: nothing to drop
    assert len(net._graphs) == 1
    copied = copy.deepcopy(net)
    assert copied._graphs == {} and len(net._graphs) == 1  # a copy records over its own weights
    net.double()
    assert net._graphs == {}
    net.float()(x, t)
    with_stable_mish(net)
    assert net._graphs == {}
    net.train()
    net(x, t)
    assert net._graphs == {}  # training runs eagerly
    net.eval().replay(False)(x, t)
    assert net._graphs is None


def test_shapes_beyond_the_limit_drop_the_oldest_graph():
    net = MLPDenoiser(HORIZON * FEATURES, hidden=16).eval().replay()
    net.max_graphs = 2
    for batch in (1, 2, 3):
        net(*inputs(net, batch, 0)[:2])
    assert [key[0][0][0] for key in net._graphs] == [2, 3]
