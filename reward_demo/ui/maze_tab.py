"""The Maze tab: reward heatmaps of the learned relative reward r(s, t | goal) over a PointMaze (Maze2D)
floor, trajectories of the base / expert / reward-steered base diffusion planners drawn on top, and
PNG / CSV downloads.

API endpoints (every event has an ``api_name``; see ``build_tab``):

``maze_heatmap(maze, goal_row, goal_col, t, view) -> (plot, summary, values)``
``maze_select(maze, t, view) -> (goal_row, goal_col, goal_cell, t, scale, plot, summary, values)``
``maze_goal_cell(maze, goal_cell, t, view) -> (goal_row, goal_col, plot, summary, values)``
``maze_trajectories(maze, goal_row, goal_col, t, view, samplers, scale, n, seed) -> (plot, trajectories)``
``maze_download(maze, goal_row, goal_col, t, view, trajectories) -> (png file, csv file)``

The handlers are the methods of ``MazeHandlers`` (``heatmap``, ``select_maze``, ...) on the ``maze.demo.MazeDemo``
service the tab is given (``build_tab(service)``), so they can be called without a server. Bad input raises
``gr.Error`` with a message naming the input (``maze.inputs`` checks every input; Gradio's own checks are
bypassed), never a stack trace. Every event is queued and shows its progress and error badge on the tab's status
line only, so a wrong input toasts its message and the plot keeps the last good heatmap.
"""
from __future__ import annotations

import hashlib
import json
import logging
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import gradio as gr
import numpy as np
from gradio.components.plot import PlotData

from ..maze import inputs
from ..maze.demo import BINNED_BINS_PER_CELL, MazeDemo, is_hit, recommended_settings
from ..maze.inputs import MAX_SCALE, MAX_TRAJECTORIES, SAMPLERS, VIEW_BINNED, VIEW_DENSE, VIEWS, check_maze
from ..maze.layouts import MAZE_NAMES, get_layout
from . import plots
from .errors import checked_by_handler, user_errors

log = logging.getLogger(__name__)

DEFAULT_T_MAX = 49  # slider range before a maze's models are loaded (MazeTrainArgs.n_timesteps - 1)
DOWNLOAD_DIR = Path(tempfile.gettempdir()) / "reward_demo_downloads"


def summary_json(heatmap, view: str, seconds: Optional[float] = None) -> dict:
    finite = heatmap.values[np.isfinite(heatmap.values)]
    out = {"maze": heatmap.maze, "goal": [heatmap.goal[0], heatmap.goal[1]],
           "goal_cell": list(plots.goal_cell(*heatmap.goal)), "t": heatmap.t, "view": view,
           "argmax_cell": list(heatmap.argmax_cell), "argmax_xy": [round(v, 4) for v in heatmap.argmax_xy],
           "hit": is_hit(heatmap),
           "reward_range": [round(float(finite.min()), 6), round(float(finite.max()), 6)]}
    if seconds is not None:
        out["compute_seconds"] = round(seconds, 4)
    return out


def values_json(heatmap, view: str) -> dict:
    out = heatmap.to_json()
    out["view"] = view
    out["hit"] = is_hit(heatmap)
    return out


def _view_labels(view: str) -> Tuple[str, str]:
    if view == VIEW_BINNED:
        return (f"binned data ({BINNED_BINS_PER_CELL}x{BINNED_BINS_PER_CELL}/cell)",
                "mean reward (scaled 0-1)")
    return "dense grid", "reward"


def heatmap_plot(heatmap, view: str, trajectories: Optional[Dict[str, np.ndarray]] = None) -> PlotData:
    label, cbar = _view_labels(view)
    figure = plots.heatmap_figure(heatmap, get_layout(heatmap.maze), view_label=label, colorbar_title=cbar,
                                  trajectories=trajectories)
    return PlotData(type="plotly", plot=plots.figure_json(figure))


def cell_choices(maze: str) -> List[Tuple[str, str]]:
    return [(f"row {r}, col {c}", f"{r},{c}") for r, c in get_layout(maze).free_cells()]


def default_goal(maze: str) -> Tuple[int, int]:
    """The D4RL goal cell ('G') of the maze."""
    return get_layout(maze).d4rl_goal_cell


# ------------------------------------------------------------------ handlers (one per API endpoint)
class MazeHandlers:
    """The tab's event handlers, on the ``MazeDemo`` they are given; callable without a server."""

    def __init__(self, service: MazeDemo):
        self.service = service

    @user_errors
    def heatmap(self, maze, goal_row, goal_col, t, view):
        """maze_heatmap: (plot, summary JSON, values JSON {maze, goal, t, grid, xs, ys, argmax_cell, argmax_xy,
        ...})."""
        start = time.perf_counter()
        hm = self.service.compute_heatmap(maze, goal_row, goal_col, t, view)
        plot = heatmap_plot(hm, view)
        return plot, summary_json(hm, view, time.perf_counter() - start), values_json(hm, view)

    @user_errors
    def heatmap_for_typed_t(self, maze, goal_row, goal_col, t, view):
        """The t slider dragged or its number typed: the heatmap, except while the number box is empty (being
        typed into: "-" of "-3"), which changes nothing."""
        if t is None or (isinstance(t, str) and not t.strip()):
            return (gr.skip(),) * 3
        return self.heatmap(maze, goal_row, goal_col, t, view)

    @user_errors
    def select_maze(self, maze, t, view):
        """maze_select: a new maze resets the goal to its D4RL goal cell (the free-cell list shows it), the t
        slider to its reward's range (t kept where it fits) and the steering scale to the maze's recommended
        scale."""
        maze = check_maze(maze)
        t_max = self.service.n_reward_timesteps(maze) - 1
        settings = recommended_settings()[maze]
        t_number = inputs.number_or_none(t)
        t_value = settings["t"] if t_number is None else min(max(int(t_number), 0), t_max)
        row, col = default_goal(maze)
        plot, summary, values = self.heatmap(maze, row, col, t_value, view)
        return (row, col, gr.Dropdown(choices=cell_choices(maze), value=inputs.goal_cell_value(maze, row, col)),
                gr.Slider(minimum=0, maximum=t_max, value=t_value, step=1),
                gr.Slider(minimum=0, maximum=MAX_SCALE, value=settings["scale"]), plot, summary, values)

    @user_errors
    def pick_cell(self, maze, cell, t, view):
        """maze_goal_cell: a free cell "row,col" from the dropdown becomes the goal; no choice (the list opened
        and left) changes nothing."""
        chosen = inputs.parse_goal_cell(maze, cell)
        if chosen is None:
            return (gr.skip(),) * 5
        plot, summary, values = self.heatmap(maze, *chosen, t, view)
        return (*chosen, plot, summary, values)

    @staticmethod
    @user_errors
    def sync_goal_cell(maze, goal_row, goal_col):
        """The free-cell list follows the goal (typed, clicked on the plot): its cell, or nothing off a cell
        centre."""
        return gr.update(value=inputs.goal_cell_value(maze, goal_row, goal_col))

    @user_errors
    def trajectories(self, maze, goal_row, goal_col, t, view, samplers, scale, n, seed, progress=gr.Progress()):
        """maze_trajectories: sample base / expert / steered trajectories and draw them over the heatmap."""
        maze = check_maze(maze)
        samplers = inputs.parse_samplers(samplers)
        scale = inputs.parse_scale(scale)
        n = inputs.parse_n(n)
        seed = inputs.parse_seed(seed)
        progress(0.0, desc="computing the heatmap")
        hm = self.service.compute_heatmap(maze, goal_row, goal_col, t, view)
        layout = get_layout(maze)
        goal_xy = layout.cell_to_xy(*hm.goal)
        paths: Dict[str, np.ndarray] = {}
        info = {"maze": maze, "goal": [hm.goal[0], hm.goal[1]],
                "goal_xy": [round(goal_xy[0], 4), round(goal_xy[1], 4)], "n": n, "scale": scale, "seed": seed,
                "horizon": self.service.horizon(maze), "samplers": {}}
        for i, sampler in enumerate(samplers):
            progress(i / len(samplers), desc=f"sampling {n} {sampler} trajectories ({i + 1}/{len(samplers)})")
            start = time.perf_counter()
            paths[sampler] = self.service.sample_trajectories(maze, sampler, hm.goal[0], hm.goal[1], n=n, scale=scale,
                                                              seed=seed)
            info["samplers"][sampler] = {**plots.trajectory_summary(paths[sampler], goal_xy),
                                         "seconds": round(time.perf_counter() - start, 3),
                                         "positions": np.round(paths[sampler], 3).tolist()}
        progress(1.0, desc="drawing")
        return heatmap_plot(hm, view, paths), info

    @user_errors
    def download(self, maze, goal_row, goal_col, t, view, trajectory_info=None):
        """maze_download: the heatmap as a PNG (trajectories included when they belong to this maze and goal)
        and its values as a CSV (x, y, reward)."""
        hm = self.service.compute_heatmap(maze, goal_row, goal_col, t, view)
        paths = inputs.parse_trajectories_json(trajectory_info, hm.maze, hm.goal)
        label, cbar = _view_labels(view)
        key = hashlib.sha1(json.dumps([hm.maze, hm.goal, hm.t, view, None if not paths else
                                       {k: v.round(3).tolist() for k, v in paths.items()}]).encode()).hexdigest()[:12]
        folder = DOWNLOAD_DIR / key
        folder.mkdir(parents=True, exist_ok=True)
        kind = "dense" if view == VIEW_DENSE else "binned"
        stem = f"reward_{hm.maze}_row{hm.goal[0]:g}_col{hm.goal[1]:g}_t{hm.t}_{kind}"
        png, csv_path = folder / f"{stem}.png", folder / f"{stem}.csv"
        plots.save_png(png, hm, get_layout(hm.maze), view_label=label, colorbar_title=cbar, trajectories=paths)
        plots.save_csv(csv_path, hm)
        return str(png), str(csv_path)


# ------------------------------------------------------------------ layout
def build_tab(service: MazeDemo, demo: Optional[gr.Blocks] = None) -> Dict[str, gr.components.Component]:
    """Build the Maze tab's components and events, wired to ``service``, inside the current Blocks / Tab context.

    ``demo``: the enclosing Blocks; when given, the tab's heatmap is computed on page load.
    Returns the components by name (for tests and for the app's page script).
    """
    handlers = MazeHandlers(service)
    settings = recommended_settings()
    maze0 = service.default_maze()
    row0, col0 = default_goal(maze0)
    gr.Markdown(
        "Each maze has three models trained here on PointMaze data: a **base** diffusion planner (undirected "
        "exploration), a goal-conditioned **expert** planner, and the **relative reward** r(s, t | goal) extracted "
        "from the pair by gradient matching. The heatmap shows that reward over the maze floor for the chosen "
        "goal; a good reward peaks at the goal. **Pick the goal** by clicking a free cell of the plot, by typing its "
        "row and column (then Enter or *Compute heatmap*), or from the list of free cells.")
    recommended = lambda key: ", ".join(f"{m} {v[key]:g}" for m, v in settings.items())  # noqa: E731
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=300):
            maze = gr.Dropdown([(m if service.has_models(m) else f"{m} (models missing)", m) for m in MAZE_NAMES],
                               value=maze0, label=inputs.MAZE_LABEL, elem_id="maze-name")
            with gr.Row():
                goal_row = gr.Number(row0, label=inputs.ROW_LABEL, precision=None, step=1, elem_id="maze-goal-row",
                                     min_width=80)
                goal_col = gr.Number(col0, label=inputs.COL_LABEL, precision=None, step=1, elem_id="maze-goal-col",
                                     min_width=80)
            goal_cell = gr.Dropdown(cell_choices(maze0), value=inputs.goal_cell_value(maze0, row0, col0),
                                    label="...or pick a free cell", elem_id="maze-goal-cell")
            t = gr.Slider(0, DEFAULT_T_MAX, value=settings[maze0]["t"], step=1, label=inputs.T_LABEL,
                          info=f"0 = clean states; recommended: {recommended('t')}", elem_id="maze-t")
            view = gr.Radio(list(VIEWS), value=VIEW_DENSE, label=inputs.VIEW_LABEL, elem_id="maze-view",
                            info="dense grid: reward at 10x10 points per cell; binned: mean reward of held-out "
                                 "base-data states per bin, scaled to 0-1 (the paper's figures)")
            compute = gr.Button("Compute heatmap", variant="primary", elem_id="maze-compute")
            with gr.Accordion("Trajectories", open=True):
                samplers = gr.CheckboxGroup(list(SAMPLERS), value=["expert", "steered"], label=inputs.SAMPLERS_LABEL,
                                            elem_id="maze-samplers",
                                            info="base: unconditional; expert: goal-conditioned; steered: base "
                                                 "model guided by the learned reward's gradient. Each draws "
                                                 "windows of behaviour anywhere in the maze, not paths from a "
                                                 "chosen start; one seed gives all three the same noise")
                scale = gr.Slider(0, MAX_SCALE, value=settings[maze0]["scale"], step=0.5,
                                  label=inputs.SCALE_LABEL, elem_id="maze-scale",
                                  info=f"set to the maze's recommended scale when the maze changes: "
                                       f"{recommended('scale')}")
                with gr.Row():
                    n = gr.Slider(1, MAX_TRAJECTORIES, value=4, step=1, label=inputs.N_LABEL, elem_id="maze-n")
                    seed = gr.Number(0, label=inputs.SEED_LABEL, precision=0, elem_id="maze-seed", min_width=80)
                sample = gr.Button("Sample trajectories", elem_id="maze-sample")
        with gr.Column(scale=2, min_width=320):
            # progress and error badges go here, so the plot and the result keep their last good values
            status = gr.Markdown("Click a free cell of the plot to make it the goal; a wrong input is explained "
                                 "in a message, and the plot keeps the last good heatmap.", elem_id="maze-status")
            plot = gr.Plot(label="Reward heatmap (click a free cell to make it the goal)", elem_id="maze-plot")
            summary = gr.JSON(label="Result", elem_id="maze-summary", max_height=280)
            with gr.Accordion("Downloads: heatmap PNG and values CSV", open=False, elem_id="maze-downloads"):
                export = gr.Button("Prepare PNG + CSV for the current heatmap (and trajectories)",
                                   elem_id="maze-export", size="sm")
                with gr.Row():
                    png_file = gr.File(label="Heatmap PNG", elem_id="maze-png", interactive=False)
                    csv_file = gr.File(label="Values CSV (x, y, reward)", elem_id="maze-csv", interactive=False)
            with gr.Accordion("Heatmap values (JSON)", open=False):
                values = gr.JSON(label="Grid values", elem_id="maze-values")
            with gr.Accordion(inputs.TRAJECTORIES_JSON_LABEL, open=False):
                traj_info = gr.JSON(label="Trajectories", elem_id="maze-trajectories")

    for component in (maze, goal_row, goal_col, goal_cell, t, view, samplers, scale, n, seed, traj_info):
        checked_by_handler(component)
    heat_inputs = [maze, goal_row, goal_col, t, view]
    heat_outputs = [plot, summary, values]
    triggers = [compute.click, goal_row.submit, goal_col.submit, view.input]
    if demo is not None:
        triggers.append(demo.load)
    # preprocess=False as well as checked_by_handler: an event that updates an input's props (select_maze sets
    # the t and scale sliders' range and value, the free-cell list's choices) makes Gradio rebuild that input
    # for the session from its class, without checked_by_handler's instance override, and Gradio's own
    # "Value 99 is greater than maximum value 49." came back. Every input of this tab is checked by its handler.
    events = dict(show_progress_on=[status], preprocess=False)
    sync = dict(fn=handlers.sync_goal_cell, inputs=[maze, goal_row, goal_col], outputs=[goal_cell],
                api_visibility="private", show_progress="hidden", preprocess=False)
    gr.on(triggers, handlers.heatmap, heat_inputs, heat_outputs, api_name="maze_heatmap", trigger_mode="always_last",
          **events).success(**sync)
    # the slider dragged or its number typed (Gradio's slider has no submit event; typing gives input events)
    t.input(handlers.heatmap_for_typed_t, heat_inputs, heat_outputs, api_visibility="private",
            trigger_mode="always_last", **events).success(**sync)
    maze.input(handlers.select_maze, [maze, t, view], [goal_row, goal_col, goal_cell, t, scale, *heat_outputs],
               api_name="maze_select", **events)
    goal_cell.input(handlers.pick_cell, [maze, goal_cell, t, view], [goal_row, goal_col, *heat_outputs],
                    api_name="maze_goal_cell", **events)
    sample.click(handlers.trajectories, [*heat_inputs, samplers, scale, n, seed], [plot, traj_info],
                 api_name="maze_trajectories", concurrency_id="maze_trajectories", **events)
    export.click(handlers.download, [*heat_inputs, traj_info], [png_file, csv_file], api_name="maze_download",
                 concurrency_id="maze_download", **events)
    return {"maze": maze, "goal_row": goal_row, "goal_col": goal_col, "goal_cell": goal_cell, "t": t, "view": view,
            "compute": compute, "samplers": samplers, "scale": scale, "n": n, "seed": seed, "sample": sample,
            "plot": plot, "summary": summary, "values": values, "export": export, "png": png_file, "csv": csv_file,
            "trajectories": traj_info, "status": status}


#: Page script: makes a click on the heatmap pick the goal. Plotly's ``plotly_click`` gives the clicked
#: (x, y); the figure's ``layout.meta`` holds the maze size, which turns it into (row, col). The inputs
#: are set as if typed, then "Compute heatmap" is clicked. The plot is re-rendered on every update, so a
#: timer (re)attaches the handler to whatever plot is showing.
CLICK_TO_PICK_GOAL_JS = r"""
() => {
  if (window.__mazeGoalClick) return;
  const setNumber = (id, value) => {
    const input = document.querySelector(`#${id} input[type=number]`) || document.querySelector(`#${id} input`);
    if (!input) return false;
    input.value = String(value);
    input.dispatchEvent(new Event("input", {bubbles: true}));
    input.dispatchEvent(new Event("change", {bubbles: true}));
    return true;
  };
  const handler = (event) => {
    const gd = document.querySelector("#maze-plot .js-plotly-plot");
    const meta = gd && ((gd.layout && gd.layout.meta) || (gd._fullLayout && gd._fullLayout.meta));
    if (!meta || !event || !event.points || !event.points.length) return;
    const p = event.points[0];
    const col = Math.round(Number(p.x) + (meta.width - 1) / 2);
    const row = Math.round((meta.height - 1) / 2 - Number(p.y));
    if (!(row >= 0 && row < meta.height && col >= 0 && col < meta.width)) return;
    if (setNumber("maze-goal-row", row) && setNumber("maze-goal-col", col)) {
      window.__mazeLastClick = {row, col};
      setTimeout(() => { const b = document.querySelector("#maze-compute"); if (b) b.click(); }, 80);
    }
  };
  window.__mazeGoalClick = handler;
  setInterval(() => {
    document.querySelectorAll("#maze-plot .js-plotly-plot").forEach((gd) => {
      if (typeof gd.on !== "function") return;
      const attached = gd._ev && typeof gd._ev.listeners === "function" ? gd._ev.listeners("plotly_click") : null;
      if (attached ? attached.indexOf(handler) < 0 : !gd.__mazeGoalClick) {
        gd.on("plotly_click", handler);
        gd.__mazeGoalClick = true;
      }
    });
  }, 300);
}
"""
