"""The Maze tab's input checks (``reward_demo.maze.inputs``) and handlers without a server: every bad input gets
a message naming the input as the page labels it and what is allowed (issue 25), an empty choice of the
free-cell list changes nothing, the maze's recommended settings follow the maze, and the heatmap figure speaks
in rows and columns and is drawn on a transparent background."""
import json

import gradio as gr
import numpy as np
import pytest

from reward_demo.maze import inputs
from reward_demo.maze.layouts import get_layout

UMAZE_FREE = "(1, 1), (1, 2), (1, 3), (2, 3), (3, 1), (3, 2), (3, 3)"


@pytest.mark.parametrize("check,value,message", [
    (inputs.check_maze, "atlantis", "Maze must be one of umaze, medium, large, got 'atlantis'"),
    (inputs.check_maze, None, "Maze must be one of umaze, medium, large, got None"),
    (inputs.parse_view, "sideways", "View must be one of 'dense grid', 'binned data states (paper)'"),
    (inputs.parse_samplers, [], "Samplers: tick one or more samplers (base, expert, steered), got []"),
    (inputs.parse_samplers, ["base", "oracle"], "Samplers: tick one or more samplers"),
    (inputs.parse_scale, -1, "Steering scale must be a number from 0 to 100, got -1"),
    (inputs.parse_scale, 100.5, "Steering scale must be a number from 0 to 100"),
    (inputs.parse_scale, "strong", "Steering scale must be a number from 0 to 100, got 'strong'"),
    (inputs.parse_scale, float("nan"), "Steering scale must be a number from 0 to 100"),
    (inputs.parse_scale, None, "Steering scale must be a number from 0 to 100, got None"),
    (inputs.parse_n, 0, "Trajectories per sampler must be a whole number from 1 to 16, got 0"),
    (inputs.parse_n, 17, "Trajectories per sampler must be a whole number from 1 to 16"),
    (inputs.parse_n, 2.5, "Trajectories per sampler must be a whole number from 1 to 16"),
    (inputs.parse_n, "four", "Trajectories per sampler must be a whole number from 1 to 16, got 'four'"),
    (inputs.parse_seed, -1, "Seed must be a whole number from 0 to 4294967295, got -1"),
    (inputs.parse_seed, "lucky", "Seed must be a whole number from 0 to 4294967295, got 'lucky'"),
    (inputs.parse_seed, 1.5, "Seed must be a whole number"),
    (inputs.parse_seed, True, "Seed must be a whole number"),
])
def test_bad_value_names_the_input_and_what_is_allowed(check, value, message):
    with pytest.raises(ValueError) as info:
        check(value)
    assert message in str(info.value)


@pytest.mark.parametrize("t,shown", [(99, "99"), (-3, "-3"), (2.5, "2.5"), ("five", "'five'"), (None, "None"),
                                     ("", "''"), (float("inf"), "inf")])
def test_bad_t_names_the_input_its_range_and_the_maze(t, shown):
    with pytest.raises(ValueError) as info:
        inputs.parse_t(t, 50, "umaze")
    assert str(info.value) == f"Diffusion step t must be a whole number from 0 to 49 for the umaze maze, got {shown}"


@pytest.mark.parametrize("row,col,message", [
    (0, 0, f"Goal row 0, Goal column 0: cell (0, 0) is a wall of the umaze maze; pick a free cell (row, column): "
           f"{UMAZE_FREE}"),
    (2, 1.4, "Goal row 2, Goal column 1.4: cell (2, 1) is a wall"),
    (9, 1, "Goal row 9, Goal column 1 is outside the umaze maze: rows are 0 to 4, columns 0 to 4"),
    (-1, 2, "Goal row -1, Goal column 2 is outside the umaze maze"),
    (None, 1, f"Goal row is empty: enter a number (the umaze maze's free cells, as (row, column): {UMAZE_FREE})"),
    ("", 1, "Goal row is empty: enter a number"),
    (1, "two", "Goal column is 'two': enter a number"),
    (1, float("nan"), "Goal column is nan: enter a number"),
])
def test_bad_goal_names_the_input_and_the_free_cells(row, col, message):
    with pytest.raises(ValueError) as info:
        inputs.parse_goal("umaze", row, col)
    assert message in str(info.value)


def test_good_values_pass():
    assert inputs.parse_goal("umaze", "3", 1.3) == (3.0, 1.3)
    assert inputs.parse_t("7", 50) == 7 and inputs.parse_t(7.0, 50) == 7
    assert inputs.parse_samplers(["steered", "base"]) == ["base", "steered"]
    assert inputs.parse_samplers("expert") == ["expert"]
    assert inputs.parse_scale("0.5") == 0.5 and inputs.parse_n(16.0) == 16 and inputs.parse_seed("7") == 7


@pytest.mark.parametrize("cell", ["0,0", "1", "a,b", "1.5,1", "9,9", 11])
def test_bad_free_cell_names_the_list_and_its_choices(cell):
    with pytest.raises(ValueError) as info:
        inputs.parse_goal_cell("umaze", cell)
    assert str(info.value).startswith("Free cell ('...or pick a free cell') must be a free cell of the umaze maze "
                                      "written 'row,col', one of 1,1, 1,2, 1,3, 2,3, 3,1, 3,2, 3,3")


def test_free_cell_list_value_follows_the_goal():
    assert inputs.parse_goal_cell("umaze", "3,1") == (3, 1)
    assert inputs.parse_goal_cell("umaze", None) is None and inputs.parse_goal_cell("umaze", " ") is None
    assert inputs.goal_cell_value("umaze", 3, 1.0) == "3,1"
    assert inputs.goal_cell_value("umaze", 1.3, 2.7) is None  # off-centre: no entry of the list
    assert inputs.goal_cell_value("umaze", 0, 0) is None and inputs.goal_cell_value("umaze", None, 1) is None


GOOD_PATHS = {"maze": "umaze", "goal": [3.0, 3.0], "samplers": {"base": {"positions": [[[0.0, 0.0], [0.1, 0.0]]]}}}


@pytest.mark.parametrize("info,message", [
    ("{not json", "it is not valid JSON"),
    ([1, 2], "got list without a \"samplers\" object"),
    ({"maze": "umaze", "goal": [3, 3]}, "without a \"samplers\" object"),
    ({"maze": "umaze", "goal": "3,3", "samplers": {}}, "its \"goal\" is '3,3'"),
    ({**GOOD_PATHS, "samplers": {"oracle": {"positions": []}}}, "sampler 'oracle' is unknown"),
    ({**GOOD_PATHS, "samplers": {"base": {"positions": [1, 2]}}}, "the base \"positions\" are not a list of paths"),
    ({**GOOD_PATHS, "samplers": {"base": {"positions": [[[1, 2, 3]]]}}}, "the base \"positions\""),
    ({**GOOD_PATHS, "samplers": {"base": {"positions": [[[1, 2], [3]]]}}}, "the base \"positions\""),
    ({**GOOD_PATHS, "samplers": {"base": {}}}, "the base \"positions\""),
    ({**GOOD_PATHS, "samplers": {"base": "here"}}, "the base \"positions\""),
])
def test_malformed_trajectories_json_is_named(info, message):
    with pytest.raises(ValueError) as exc:
        inputs.parse_trajectories_json(info, "umaze", (3.0, 3.0))
    text = str(exc.value)
    assert text.startswith("Sampled trajectories (JSON) must be what 'Sample trajectories' returns") and message in text


def test_trajectories_json_of_another_goal_or_maze_is_left_out():
    assert inputs.parse_trajectories_json(None, "umaze", (3, 3)) is None
    assert inputs.parse_trajectories_json("", "umaze", (3, 3)) is None
    assert inputs.parse_trajectories_json(GOOD_PATHS, "umaze", (1, 1)) is None
    assert inputs.parse_trajectories_json(GOOD_PATHS, "medium", (3, 3)) is None
    paths = inputs.parse_trajectories_json(json.dumps(GOOD_PATHS), "umaze", (3, 3))
    assert list(paths) == ["base"] and paths["base"].shape == (1, 2, 2)


# ------------------------------------------------------------------ handlers and figure (umaze models)
@pytest.fixture(scope="module")
def maze_handlers():
    """The Maze tab's handlers on the maze service the environment configures (no server)."""
    from conftest import skip_without_maze_models

    skip_without_maze_models("umaze")
    from reward_demo.services import build_services
    from reward_demo.ui.maze_tab import MazeHandlers

    return MazeHandlers(build_services().maze)


def test_handlers_raise_the_named_message(maze_handlers):
    with pytest.raises(gr.Error, match="Diffusion step t must be a whole number from 0 to 49"):
        maze_handlers.heatmap("umaze", 1, 1, 99, inputs.VIEW_DENSE)
    with pytest.raises(gr.Error, match="must be a free cell of the umaze maze"):
        maze_handlers.pick_cell("umaze", "0,0", 0, inputs.VIEW_DENSE)
    with pytest.raises(gr.Error, match="Seed must be a whole number"):
        maze_handlers.trajectories("umaze", 1, 1, 0, inputs.VIEW_DENSE, ["base"], 1.0, 2, "x",
                                   progress=lambda *a, **k: None)
    with pytest.raises(gr.Error, match=r"Sampled trajectories \(JSON\)"):
        maze_handlers.download("umaze", 3, 3, 0, inputs.VIEW_DENSE, {"samplers": []})


@pytest.mark.parametrize("cell", [None, ""])
def test_free_cell_list_left_empty_skips_every_output(maze_handlers, cell):
    outputs = maze_handlers.pick_cell("umaze", cell, 0, inputs.VIEW_DENSE)
    assert len(outputs) == 5 and all(o == gr.skip() for o in outputs)


def test_select_maze_sets_the_mazes_recommended_scale(maze_handlers):
    from conftest import maze_models_present

    from reward_demo.maze.models import RECOMMENDED_SETTINGS

    for maze in [m for m in ("umaze", "large", "medium") if maze_models_present(m)]:
        row, col, cell, t, scale, *_ = maze_handlers.select_maze(maze, 0, inputs.VIEW_DENSE)
        assert scale.value == RECOMMENDED_SETTINGS[maze]["scale"]
        assert cell.value == f"{row},{col}" and t.value == RECOMMENDED_SETTINGS[maze]["t"]


def test_heatmap_figure_hover_legend_and_background(maze_handlers):
    plot, _, _ = maze_handlers.heatmap("umaze", 3, 1, 0, inputs.VIEW_DENSE)
    figure = json.loads(plot.plot)
    reward = next(t for t in figure["data"] if t.get("name") == "reward")
    assert reward["hovertemplate"].startswith("row %{customdata[0]}, col %{customdata[1]}")
    layout, xs, ys = get_layout("umaze"), np.asarray(reward["x"]), np.asarray(reward["y"])
    for i, j in ((0, 0), (17, 33), (len(ys) - 1, len(xs) - 1)):  # each point's hover cell contains it
        assert tuple(reward["customdata"][i][j]) == layout.xy_to_cell(xs[j], ys[i])
    assert figure["layout"]["paper_bgcolor"] == "rgba(0,0,0,0)"
    assert all(len(line) <= 48 for line in figure["layout"]["title"]["text"].split("<br>"))
    paths = {"base": np.zeros((2, 5, 2)), "steered": np.ones((2, 5, 2))}
    from reward_demo.ui.maze_tab import heatmap_plot

    heatmap = maze_handlers.service.compute_heatmap("umaze", 3, 1, 0, inputs.VIEW_DENSE)
    figure = json.loads(heatmap_plot(heatmap, inputs.VIEW_DENSE, paths).plot)
    legend = [t["name"] for t in figure["data"] if t.get("showlegend", True) and t.get("name")]
    assert "start of a trajectory" in legend and "end of a trajectory" in legend
