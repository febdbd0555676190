"""Fast tests of the Maze2D data layer (layouts, controller, physics, generation, windows)."""

import json
import warnings

import numpy as np
import pytest

from reward_demo.maze.controller import WaypointController
from reward_demo.maze.data import (
    ARRAY_KEYS,
    WindowSampler,
    default_dataset_path,
    generate_dataset,
    load_dataset,
    save_dataset,
    segment_bounds,
    segment_windows,
)
from reward_demo.maze.layouts import (
    MAZE_NAMES,
    REFERENCE_GOALS,
    get_layout,
    reference_goals_xy,
    validate_goal_cell,
    validate_goal_position,
    validate_goal_xy,
)
from reward_demo.maze.physics import PointMazeSim


def _gym_maps():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from gymnasium_robotics.envs.maze import maps
    return {"umaze": maps.U_MAZE, "medium": maps.MEDIUM_MAZE, "large": maps.LARGE_MAZE}


@pytest.fixture(scope="module")
def medium_data():
    return {
        kind: generate_dataset("medium", kind, 20_000, seed=3, progress=False) for kind in ("base", "expert")
    }


# ----------------------------------------------------------------------------- layouts
def test_layout_facts():
    assert MAZE_NAMES == ("umaze", "medium", "large")
    sizes = {"umaze": (5, 5, 7), "medium": (8, 8, 26), "large": (9, 12, 46)}
    maps = _gym_maps()
    for name in MAZE_NAMES:
        lay = get_layout(name)
        h, w, n_free = sizes[name]
        assert (lay.height, lay.width, len(lay.free_cells())) == (h, w, n_free)
        assert lay.to_gymnasium_map() == maps[name]  # same walls as gymnasium-robotics / D4RL
        assert len(REFERENCE_GOALS[name]) == 8
        for row, col in REFERENCE_GOALS[name]:
            validate_goal_position(lay, row, col)
            assert lay.is_free(round(row), round(col))
        assert lay.is_free(*lay.d4rl_goal_cell)
    assert get_layout("umaze").d4rl_goal_cell == (1, 1)
    assert np.allclose(reference_goals_xy("umaze")[3], [0.7, 0.7])  # (1.3, 2.7)


def test_coordinates_round_trip_and_match_gymnasium():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from gymnasium_robotics.envs.maze.maze_v4 import Maze
    for name in MAZE_NAMES:
        lay = get_layout(name)
        gm = Maze(lay.to_gymnasium_map(), 1, 0.4)
        cells = np.array(lay.free_cells())
        x, y = lay.cell_to_xy(cells[:, 0], cells[:, 1])
        for (r, c), xi, yi in zip(cells, x, y):
            assert np.allclose(gm.cell_rowcol_to_xy(np.array([r, c])), [xi, yi])
        r2, c2 = lay.xy_to_cell(x + 0.3, y - 0.45)  # anywhere inside the cell maps back to it
        assert np.array_equal(r2, cells[:, 0]) and np.array_equal(c2, cells[:, 1])
        for xi, yi in zip(x + 0.2, y + 0.1):
            assert tuple(gm.cell_xy_to_rowcol(np.array([xi, yi]))) == lay.xy_to_cell(xi, yi)
        assert lay.cell_to_xy(1, 1) == (1 - (lay.width - 1) / 2, (lay.height - 1) / 2 - 1)


def test_bfs_and_continuous_distances():
    lay = get_layout("umaze")
    d = lay.shortest_path_distances((1, 1))
    assert d[1, 1] == 0 and d[1, 2] == 1 and d[3, 1] == 6
    assert np.isinf(d[0, 0]) and np.isinf(d[2, 1])
    for name in MAZE_NAMES:
        lay = get_layout(name)
        for cell in lay.free_cells()[:5]:
            dist = lay.shortest_path_distances(cell)
            assert dist[cell] == 0
            assert all(dist[nb] == 1 for nb in lay.neighbours(*cell))
    lay = get_layout("umaze")
    goal = np.array(lay.cell_to_xy(1, 1))
    centres = np.stack(lay.cell_to_xy(*np.array([(1, 1), (1, 2), (1, 3), (2, 3), (3, 3), (3, 2), (3, 1)]).T), -1)
    cd = lay.continuous_distance_to_goal(centres, goal)
    assert cd[0] == 0 and np.all(np.diff(cd) > 0.1)  # increases along the corridor
    assert np.all(cd >= np.linalg.norm(centres - goal, axis=1) - 1e-9)  # never shorter than the straight line
    # exact geodesics from (-1, 1) around the corners (0.5, 0.5) and (0.5, -0.5)
    pts = np.array([[1.0, 0.0], [-1.0, -1.0]])
    np.testing.assert_allclose(
        lay.continuous_distance_to_goal(pts, goal), [10**0.5 / 2 + 0.5**0.5, 10**0.5 + 1], rtol=0.05
    )
    assert np.isinf(lay.continuous_distance_to_goal(np.array([0.0, 0.0]), goal))  # wall cell


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match=r"maze must be one of \['umaze', 'medium', 'large'\], got 'tiny'"):
        get_layout("tiny")
    lay = get_layout("umaze")
    with pytest.raises(ValueError, match=r"goal cell \(row=0, col=0\) is a wall .*free cells"):
        validate_goal_cell(lay, 0, 0)
    with pytest.raises(ValueError, match=r"outside maze 'umaze': row must be in 0\.\.4"):
        validate_goal_cell(lay, 7, 1)
    with pytest.raises(ValueError, match="integer cell index"):
        validate_goal_cell(lay, 1.5, 1)
    with pytest.raises(ValueError, match="a wall"):
        validate_goal_position(lay, 2.0, 1.2)
    with pytest.raises(ValueError, match="outside the grid"):
        validate_goal_xy(lay, 10.0, 0.0)
    with pytest.raises(ValueError, match="kind must be one of"):
        generate_dataset("umaze", "random", 10, 0, progress=False)
    with pytest.raises(ValueError, match="maze must be one of"):
        default_dataset_path("nope", "base")
    with pytest.raises(ValueError, match="unknown generation options"):
        generate_dataset("umaze", "base", 10, 0, progress=False, gain=3)


# ----------------------------------------------------------------------------- physics + controller
def test_direct_physics_matches_gymnasium_pointmaze():
    import gymnasium as gym

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import gymnasium_robotics

        gym.register_envs(gymnasium_robotics)
    lay = get_layout("medium")
    env = gym.make("PointMaze_Medium-v3", maze_map=lay.to_gymnasium_map(), max_episode_steps=10_000)
    obs = env.reset(seed=0)[0]["observation"]
    sim = PointMazeSim("medium")
    sim.reset(*obs)
    assert sim.dt == pytest.approx(0.01)
    rng = np.random.default_rng(0)
    for _ in range(400):
        a = rng.uniform(-1.5, 1.5, 2)
        o = env.step(a)[0]["observation"]
        sim.step(a[0], a[1])
        np.testing.assert_allclose(sim.state(), o, atol=1e-9)
    env.close()


@pytest.mark.parametrize("maze", MAZE_NAMES)
def test_controller_reaches_random_targets(maze):
    from reward_demo.maze.data import FreeSpaceSampler

    lay = get_layout(maze)
    rng = np.random.default_rng(1)
    sampler = FreeSpaceSampler(lay)
    sim = PointMazeSim(maze)
    ctrl = WaypointController(lay)
    budget = {"umaze": 400, "medium": 700, "large": 1200}[maze]
    for _ in range(8):
        target = sampler.sample(rng)
        start = sampler.sample_away_from(rng, target, 1.0)
        path = ctrl.plan(lay.xy_to_cell(*start), lay.xy_to_cell(*target))
        assert path[0] == lay.xy_to_cell(*start) and path[-1] == lay.xy_to_cell(*target)
        ctrl.set_target(target)
        sim.reset(*start)
        for _step in range(budget):
            x, y, vx, vy = sim.state()
            if np.hypot(x - target[0], y - target[1]) <= 0.3:
                break
            a = ctrl(np.array([x, y, vx, vy]), target)
            assert np.all(np.abs(a) <= 1.0)
            sim.step(*a)
        else:
            pytest.fail(f"controller did not reach {target} from {start} in {budget} steps ({maze})")


# ----------------------------------------------------------------------------- generation + storage
def test_generation_deterministic_and_well_formed(medium_data):
    a = generate_dataset("umaze", "expert", 3000, seed=7, progress=False)
    b = generate_dataset("umaze", "expert", 3000, seed=7, progress=False)
    c = generate_dataset("umaze", "expert", 3000, seed=8, progress=False)
    for k in ARRAY_KEYS:
        np.testing.assert_array_equal(a[k], b[k])
    assert not np.array_equal(a["observations"], c["observations"])
    for kind, d in medium_data.items():
        n = 20_000
        assert d["observations"].shape == (n, 4) and d["actions"].shape == (n, 2) and d["goals"].shape == (n, 2)
        assert d["rewards"].shape == d["terminals"].shape == d["timeouts"].shape == (n,)
        assert d["timeouts"][-1] and np.all(d["timeouts"][d["terminals"]])
        assert np.all(np.abs(d["actions"]) <= 1.0)
        lay = get_layout("medium")
        assert lay.is_free_xy(d["observations"][:, :2]).all() and lay.is_free_xy(d["goals"]).all()
        assert d["meta"]["kind"] == kind and d["meta"]["stats"]["n_capped"] == 0
        # within a segment the goal is constant and positions move continuously
        cont = ~d["timeouts"][:-1]
        assert np.all(d["goals"][1:][cont] == d["goals"][:-1][cont])
        assert np.abs(np.diff(d["observations"][:, :2], axis=0)[cont]).max() < 0.08
        # every reached segment ends near its goal
        end_d = np.linalg.norm(d["observations"][d["terminals"], :2] - d["goals"][d["terminals"]], axis=1)
        assert end_d.max() <= 0.3 + 1e-5
    ex = medium_data["expert"]
    assert len(np.unique(ex["goals"], axis=0)) == 20  # one goal per 1000-step episode
    assert len(np.unique(medium_data["base"]["goals"], axis=0)) == medium_data["base"]["terminals"].sum() + 1


def test_save_load_round_trip(tmp_path, medium_data):
    d = medium_data["base"]
    path = save_dataset(default_dataset_path("medium", "base", tmp_path), d)
    assert path == tmp_path / "maze" / "medium_base.npz"
    with np.load(path, allow_pickle=False) as f:  # no object arrays on disk
        assert json.loads(str(f["meta"]))["maze"] == "medium"
    back = load_dataset(path)
    for k in ARRAY_KEYS:
        np.testing.assert_array_equal(back[k], d[k])
        assert back[k].dtype == d[k].dtype
    assert back["meta"] == json.loads(json.dumps(d["meta"]))
    with pytest.raises(FileNotFoundError, match="no Maze2D dataset"):
        load_dataset(tmp_path / "missing.npz")


def test_windows_never_cross_boundaries(medium_data):
    d = medium_data["base"]
    rng = np.random.default_rng(0)
    horizon, stride = 32, 3
    span = (horizon - 1) * stride + 1
    win, goals, starts = segment_windows(d, horizon, stride, 500, rng, return_starts=True)
    assert win.shape == (500, horizon, 4) and goals.shape == (500, 2) and win.dtype == np.float32
    cum = np.concatenate([[0], np.cumsum(d["timeouts"])])
    assert np.all(cum[starts + span - 1] - cum[starts] == 0)  # no timeout before the last covered step
    np.testing.assert_array_equal(win[:, 1], d["observations"][starts + stride])
    np.testing.assert_array_equal(goals, d["goals"][starts])
    # padded mode: short segments give one window starting at the segment start, padded at rest
    s, e = segment_bounds(d["timeouts"])
    sampler = WindowSampler(d, 128, 4, pad=True)
    short = s[(e - s + 1) < sampler.span]
    assert len(short) > 0 and np.isin(short, sampler.valid_starts).all()
    w, _ = sampler.windows_at(short[:3])
    assert np.all(w[:, -1, 2:] == 0) and np.all(w[:, -1, :2] == w[:, -2, :2])
    with pytest.raises(ValueError, match="no window of horizon=5000"):
        WindowSampler(d, 5000, 1)


def test_expert_windows_approach_goal_more_than_base(medium_data):
    lay = get_layout("medium")
    rng = np.random.default_rng(1)
    ex_win, ex_goal = segment_windows(medium_data["expert"], 16, 4, 300, rng)
    base_win, _ = segment_windows(medium_data["base"], 16, 4, 300, rng)

    def progress(win, goals):
        out = []
        for w, g in zip(win, goals):
            dist = lay.continuous_distance_to_goal(w[[0, -1], :2], g)
            out.append(dist[0] - dist[1])
        return np.array(out)

    ex_prog = progress(ex_win, ex_goal)
    base_prog = progress(base_win, ex_goal)  # base windows judged against the same (expert) goals
    assert ex_prog.mean() > 0.5
    assert ex_prog.mean() > base_prog.mean() + 0.4


def test_goal_hit_counts_grid_moves_not_straight_lines():
    from reward_demo.maze.layouts import get_layout

    layout = get_layout("umaze")  # row 2 is wall except (2, 3): (1, 1) and (3, 1) are 2 cells apart but 6 moves
    assert layout.is_goal_hit(1, 1, (1, 1)) and layout.is_goal_hit(1, 1, (1, 2))
    assert layout.goal_hops(1.3, 2.7, (1, 3)) == 0  # a continuous goal counts from the cell containing it
    assert not layout.is_goal_hit(1, 1, (1, 3))
    assert layout.goal_hops(1, 1, (3, 1)) == 6 and not layout.is_goal_hit(1, 1, (3, 1))


def test_expert_holds_the_goal_on_arrival():
    dwell = 60
    d = generate_dataset("umaze", "expert", 4000, seed=5, progress=False, episode_steps=400, goal_dwell_steps=dwell)
    starts, ends = segment_bounds(d["timeouts"])
    reached = d["terminals"][ends]
    assert reached.sum() >= 5 and d["meta"]["stats"]["n_reached"] == reached.sum()
    for s, e in zip(starts[reached], ends[reached]):
        assert e - s + 1 > dwell
        held = d["observations"][e - dwell + 1: e + 1]
        near = np.linalg.norm(held[:, :2] - d["goals"][e], axis=1)
        # it arrives at speed and may overshoot (PD law), but stays by the goal and settles on it
        assert near.max() < 1.0 and near[-1] <= 0.3, "the ball must stay at the goal while it holds it"
        assert np.linalg.norm(held[-1, 2:]) < 0.5, "and come to rest there"
    # without the hold a trip ends on arrival: the goal is visited far less
    plain = generate_dataset("umaze", "expert", 4000, seed=5, progress=False, episode_steps=400)
    def at_goal(x):
        return (np.linalg.norm(x["observations"][:, :2] - x["goals"], axis=1) < 0.5).mean()

    assert at_goal(d) > at_goal(plain) + 0.2
    with pytest.raises(ValueError, match="expert data only"):
        generate_dataset("umaze", "base", 100, seed=0, progress=False, goal_dwell_steps=10)
    with pytest.raises(ValueError, match="goal_dwell_steps >= 0"):
        generate_dataset("umaze", "expert", 100, seed=0, progress=False, goal_dwell_steps=-1)
