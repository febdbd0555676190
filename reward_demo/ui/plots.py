"""Figures and files of the Maze tab: the interactive plotly heatmap (with trajectory overlay), a static
matplotlib PNG of the same picture, and a CSV of the values.

Everything here is a pure function of a ``Heatmap`` (``reward_demo.maze.inference``), the maze layout and,
optionally, sampled trajectories ``{sampler: (n, horizon, 2) positions}``.

The plotly figure is built as a plain dict (plain lists, NaN -> null, values rounded) and serialised once
with ``json.dumps``: this skips plotly's validation of every property and keeps the payload small, which
matters for the heatmap's latency.
"""
from __future__ import annotations

import csv
import json
import math
from typing import Dict, Mapping, Optional, Sequence

import numpy as np

from ..maze.layouts import MazeLayout
from .figure_style import themed_layout, wrap_title

WALL_COLOUR = "#262626"
GAP_COLOUR = "#d4d4d4"  # free space without a value (binned view: too few data states in the bin)
GOAL_COLOUR = "#ffd60a"
ARGMAX_COLOUR = "#ff2d55"
COLORSCALE = "Viridis"
#: line colour of each sampler's trajectories (drawn over a black underlay so they show on any colour)
SAMPLER_COLOURS = {"base": "#f2f2f2", "expert": "#ff9f1c", "steered": "#ff3df5"}
SAMPLER_LABELS = {"base": "base (unconditional)", "expert": "expert (goal-conditioned)",
                  "steered": "steered base (reward guidance)"}


def _round_list(values: np.ndarray, digits: int) -> list:
    """Nested lists of rounded floats, NaN -> None (JSON null)."""
    arr = np.round(np.asarray(values, dtype=np.float64), digits)
    obj = arr.astype(object)
    obj[np.isnan(arr)] = None
    return obj.tolist()


def wall_grid(layout: MazeLayout) -> list:
    """(H, W) nested list: 1 on wall cells, None on free cells (a heatmap that only paints walls)."""
    return [[None if free else 1 for free in row] for row in layout.free_mask]


def cell_centres(layout: MazeLayout):
    """(x of each column, y of each row) in PointMaze coordinates."""
    xs = [float(c - (layout.width - 1) / 2) for c in range(layout.width)]
    ys = [float((layout.height - 1) / 2 - r) for r in range(layout.height)]
    return xs, ys


def goal_cell(goal_row: float, goal_col: float):
    """The (row, col) cell that contains a continuous (row, col) goal."""
    return int(math.floor(goal_row + 0.5)), int(math.floor(goal_col + 0.5))


def heatmap_title(heatmap, view_label: str, newline: str = "\n") -> str:
    """Two short lines (a phone-wide plot clips a long title): what is shown, then for which goal."""
    r, c = heatmap.goal
    lines = (f"{heatmap.maze}: learned reward r(s, t={heatmap.t} | goal)", f"goal row {r:g}, col {c:g} - {view_label}")
    return newline.join(wrap_title(line) for line in lines).replace("<br>", newline)


def cell_grid(xs: Sequence[float], ys: Sequence[float], layout: MazeLayout) -> list:
    """(len(ys), len(xs)) nested list of the [row, col] cell of every heatmap point: the hover names cells as
    the goal inputs do (whole cells keep the figure small; a continuous position would double its size)."""
    rows, _ = layout.xy_to_cell(np.zeros(len(ys)), ys)
    _, cols = layout.xy_to_cell(xs, np.zeros(len(xs)))
    return [[[r, c] for c in cols.tolist()] for r in rows.tolist()]


def heatmap_figure(heatmap, layout: MazeLayout, *, view_label: str = "dense grid",
                   colorbar_title: str = "reward", trajectories: Optional[Mapping[str, np.ndarray]] = None,
                   height: int = 560) -> dict:
    """The plotly figure (as a dict) of a reward heatmap: walls dark, goal star, argmax cross, colour bar,
    hover row / column (the cell) / reward (PointMaze x / y second); sampled trajectories drawn on top when given."""
    H, W = layout.height, layout.width
    gx, gy = layout.cell_to_xy(*heatmap.goal)
    ax, ay = heatmap.argmax_xy
    cx, cy = cell_centres(layout)
    traces = [
        {"type": "heatmap", "name": "reward", "x": _round_list(heatmap.xs, 4), "y": _round_list(heatmap.ys, 4),
         "z": _round_list(heatmap.values, 5), "colorscale": COLORSCALE, "hoverongaps": False, "zsmooth": False,
         # a horizontal colour bar above the maze: a vertical one takes a third of a phone-wide plot
         "colorbar": {"title": {"text": colorbar_title, "side": "top"}, "orientation": "h", "x": 0.5,
                      "xanchor": "center", "y": 1.0, "yanchor": "bottom", "ypad": 6, "len": 0.6, "thickness": 10},
         "customdata": cell_grid(heatmap.xs, heatmap.ys, layout),
         "hovertemplate": "row %{customdata[0]}, col %{customdata[1]}<br>reward=%{z:.4f}"
                          "<br>(PointMaze x=%{x:.2f}, y=%{y:.2f})<extra></extra>"},
        {"type": "heatmap", "name": "walls", "x": cx, "y": cy, "z": wall_grid(layout), "showscale": False,
         "colorscale": [[0, WALL_COLOUR], [1, WALL_COLOUR]], "hoverongaps": False,
         "customdata": [[[r, c] for c in range(W)] for r in range(H)],
         "hovertemplate": "wall: row %{customdata[0]}, col %{customdata[1]}<extra></extra>"},
    ]
    if trajectories:
        traces.extend(trajectory_traces(trajectories))
    goal_row, goal_col = heatmap.goal
    argmax_row, argmax_col = layout.xy_to_rowcol(ax, ay)
    traces.append({"type": "scatter", "mode": "markers", "name": "goal", "x": [gx], "y": [gy],
                   "marker": {"symbol": "star", "size": 22, "color": GOAL_COLOUR,
                              "line": {"color": "black", "width": 1.5}},
                   "hovertemplate": f"goal: row {goal_row:g}, col {goal_col:g}<extra></extra>"})
    traces.append({"type": "scatter", "mode": "markers", "name": "argmax of reward", "x": [round(ax, 4)],
                   "y": [round(ay, 4)],
                   "marker": {"symbol": "x", "size": 14, "color": ARGMAX_COLOUR,
                              "line": {"color": "black", "width": 1}},
                   "hovertemplate": f"argmax of reward: row {argmax_row:.2f}, col {argmax_col:.2f}<extra></extra>"})
    axis = {"showgrid": False, "zeroline": False, "ticks": "outside", "mirror": True, "showline": True,
            "linecolor": "#444"}
    layout_dict = themed_layout({
        "title": {"text": heatmap_title(heatmap, view_label, "<br>"), "font": {"size": 14}, "x": 0.5,
                  "xanchor": "center"},
        "height": height, "margin": {"l": 56, "r": 16, "t": 130, "b": 80},
        "plot_bgcolor": GAP_COLOUR, "hovermode": "closest",
        "xaxis": {**axis, "title": {"text": "column  (PointMaze x = col - %g)" % ((W - 1) / 2)},
                  "range": [-W / 2, W / 2], "tickvals": cx, "ticktext": [str(c) for c in range(W)],
                  "constrain": "domain"},
        "yaxis": {**axis, "title": {"text": "row  (PointMaze y = %g - row)" % ((H - 1) / 2), "standoff": 6},
                  "range": [-H / 2, H / 2], "tickvals": cy, "ticktext": [str(r) for r in range(H)],
                  "scaleanchor": "x", "scaleratio": 1, "constrain": "domain"},
        "legend": {"orientation": "h", "x": 0.5, "xanchor": "center", "y": -0.17, "yanchor": "top"},
        # read by the page's click handler to turn a clicked (x, y) into a goal (row, col)
        "meta": {"maze": heatmap.maze, "height": H, "width": W},
    })
    return {"data": traces, "layout": layout_dict}


def trajectory_traces(trajectories: Mapping[str, np.ndarray]) -> list:
    """Lines (one trace per sampler, trajectories separated by gaps) with start circles and end squares."""
    traces = []
    for sampler, positions in trajectories.items():
        positions = np.asarray(positions, dtype=np.float64)
        colour = SAMPLER_COLOURS.get(sampler, "#00e5ff")
        xs, ys = [], []
        for track in positions:
            xs.extend(np.round(track[:, 0], 3).tolist() + [None])
            ys.extend(np.round(track[:, 1], 3).tolist() + [None])
        group = f"traj-{sampler}"
        label = f"{SAMPLER_LABELS.get(sampler, sampler)} x{len(positions)}"
        traces.append({"type": "scatter", "mode": "lines", "x": xs, "y": ys, "legendgroup": group,
                       "showlegend": False, "hoverinfo": "skip", "line": {"color": "black", "width": 4.5}})
        traces.append({"type": "scatter", "mode": "lines", "x": xs, "y": ys, "name": label, "legendgroup": group,
                       "line": {"color": colour, "width": 2},
                       "hovertemplate": f"{sampler}<br>x=%{{x:.2f}}, y=%{{y:.2f}}<extra></extra>"})
        traces.append({"type": "scatter", "mode": "markers", "x": np.round(positions[:, 0, 0], 3).tolist(),
                       "y": np.round(positions[:, 0, 1], 3).tolist(), "legendgroup": group, "showlegend": False,
                       "name": f"{sampler} start", "hovertemplate": f"{sampler} start<extra></extra>",
                       "marker": {"symbol": "circle", "size": 8, "color": colour,
                                  "line": {"color": "black", "width": 1}}})
        traces.append({"type": "scatter", "mode": "markers", "x": np.round(positions[:, -1, 0], 3).tolist(),
                       "y": np.round(positions[:, -1, 1], 3).tolist(), "legendgroup": group, "showlegend": False,
                       "name": f"{sampler} end", "hovertemplate": f"{sampler} end<extra></extra>",
                       "marker": {"symbol": "square", "size": 9, "color": colour,
                                  "line": {"color": "black", "width": 1.5}}})
    # what the circles and squares mean, once for every sampler (legend entries without data)
    for name, symbol in (("start of a trajectory", "circle"), ("end of a trajectory", "square")):
        traces.append({"type": "scatter", "mode": "markers", "x": [None], "y": [None], "name": name,
                       "legendgroup": "trajectory-ends", "hoverinfo": "skip",
                       "marker": {"symbol": symbol, "size": 9, "color": "#9e9e9e",
                                  "line": {"color": "black", "width": 1}}})
    return traces


def figure_json(figure: dict) -> str:
    return json.dumps(figure, separators=(",", ":"), allow_nan=False)


def save_png(path, heatmap, layout: MazeLayout, *, view_label: str = "dense grid", colorbar_title: str = "reward",
             trajectories: Optional[Mapping[str, np.ndarray]] = None, dpi: int = 120) -> None:
    """A static PNG of the same picture as ``heatmap_figure`` (matplotlib, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure

    H, W = layout.height, layout.width
    extent = (-W / 2, W / 2, -H / 2, H / 2)
    fig = Figure(figsize=(max(5.0, 0.75 * W + 2.2), max(4.0, 0.75 * H + 1.4)), dpi=dpi)
    ax = fig.add_subplot()
    ax.set_facecolor(GAP_COLOUR)
    values = np.ma.masked_invalid(np.asarray(heatmap.values, dtype=np.float64))
    # heatmap rows run from the top row (largest y) down: origin="upper" with the maze's extent
    image = ax.imshow(values, extent=extent, origin="upper", cmap="viridis", interpolation="nearest")
    walls = np.ma.masked_where(layout.free_mask, np.ones(layout.free_mask.shape))
    ax.imshow(walls, extent=extent, origin="upper", cmap=ListedColormap([WALL_COLOUR]), interpolation="nearest")
    if trajectories:
        for sampler, positions in trajectories.items():
            colour = SAMPLER_COLOURS.get(sampler, "#00e5ff")
            positions = np.asarray(positions)
            for i, track in enumerate(positions):
                ax.plot(track[:, 0], track[:, 1], color="black", lw=3.2, zorder=3)
                ax.plot(track[:, 0], track[:, 1], color=colour, lw=1.5, zorder=4,
                        label=f"{SAMPLER_LABELS.get(sampler, sampler)} x{len(positions)}" if i == 0 else None)
            ax.scatter(positions[:, 0, 0], positions[:, 0, 1], s=22, c=colour, edgecolors="black", zorder=5)
            ax.scatter(positions[:, -1, 0], positions[:, -1, 1], s=28, c=colour, marker="s", edgecolors="black",
                       zorder=5)
        ax.scatter([], [], s=22, c="#9e9e9e", edgecolors="black", label="start of a trajectory")
        ax.scatter([], [], s=28, c="#9e9e9e", marker="s", edgecolors="black", label="end of a trajectory")
    gx, gy = layout.cell_to_xy(*heatmap.goal)
    ax.scatter([gx], [gy], marker="*", s=380, c=GOAL_COLOUR, edgecolors="black", linewidths=1.2, zorder=6, label="goal")
    ax.scatter([heatmap.argmax_xy[0]], [heatmap.argmax_xy[1]], marker="X", s=130, c=ARGMAX_COLOUR, edgecolors="black",
               linewidths=0.8, zorder=6, label="argmax of reward")
    cx, cy = cell_centres(layout)
    ax.set_xticks(cx, [str(c) for c in range(W)])
    ax.set_yticks(cy, [str(r) for r in range(H)])
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_xlabel("column")
    ax.set_ylabel("row")
    ax.set_title(heatmap_title(heatmap, view_label), fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.03, label=colorbar_title)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, fontsize=7, frameon=False)
    fig.tight_layout()
    fig.savefig(path, format="png")


def save_csv(path, heatmap) -> int:
    """Rows ``x, y, reward`` for every grid point with a value (walls and empty bins left out); returns the count."""
    values = np.asarray(heatmap.values, dtype=np.float64)
    n = 0
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["x", "y", "reward"])
        for i, y in enumerate(heatmap.ys):
            for j, x in enumerate(heatmap.xs):
                v = values[i, j]
                if np.isfinite(v):
                    writer.writerow([f"{x:.4f}", f"{y:.4f}", f"{v:.6g}"])
                    n += 1
    return n


def trajectory_summary(positions: np.ndarray, goal_xy: Sequence[float], success_radius: float = 0.5) -> Dict:
    """Final distance to the goal of sampled trajectories (n, horizon, 2)."""
    final = np.linalg.norm(np.asarray(positions)[:, -1, :] - np.asarray(goal_xy)[None], axis=-1)
    return {"final_distance_mean": round(float(final.mean()), 4),
            "final_distance_min": round(float(final.min()), 4),
            f"reached_within_{success_radius:g}": round(float((final <= success_radius).mean()), 4)}
