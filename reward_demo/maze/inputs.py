"""Checks of what a visitor (or an API client) gives the Maze tab: one function per kind of input.

Every message names the input as the page labels it ("Goal row", "Diffusion step t", ...) and says what is
allowed, because Gradio's own checks are bypassed (``ui.errors.checked_by_handler``) and these messages are
what the visitor reads. A wrong value raises ``ValueError``.
"""
from __future__ import annotations

import math
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from .layouts import MAZE_NAMES, MazeLayout, get_layout

SAMPLERS = ("base", "expert", "steered")
VIEW_DENSE = "dense grid"
VIEW_BINNED = "binned data states (paper)"
VIEWS = (VIEW_DENSE, VIEW_BINNED)
MAX_TRAJECTORIES = 16
MAX_SCALE = 100.0
MAX_SEED = 2**32 - 1
#: the page's labels, named in the messages
MAZE_LABEL = "Maze"
ROW_LABEL = "Goal row"
COL_LABEL = "Goal column"
CELL_LABEL = "Free cell ('...or pick a free cell')"
T_LABEL = "Diffusion step t"
VIEW_LABEL = "View"
SAMPLERS_LABEL = "Samplers"
SCALE_LABEL = "Steering scale"
N_LABEL = "Trajectories per sampler"
SEED_LABEL = "Seed"
TRAJECTORIES_JSON_LABEL = "Sampled trajectories (JSON)"


def number_or_none(value) -> Optional[float]:
    """``value`` as a finite float (numbers and numeric strings), else None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _whole_number(value, label: str, low: int, high: int) -> int:
    number = number_or_none(value)
    if number is None or number != int(number) or not low <= number <= high:
        raise ValueError(f"{label} must be a whole number from {low} to {high}, got {value!r}")
    return int(number)


def free_cells_text(layout: MazeLayout) -> str:
    return ", ".join(f"({r}, {c})" for r, c in layout.free_cells())


def check_maze(maze) -> str:
    if not isinstance(maze, str) or maze not in MAZE_NAMES:
        raise ValueError(f"{MAZE_LABEL} must be one of {', '.join(MAZE_NAMES)}, got {maze!r}")
    return maze


def parse_goal(maze: str, goal_row, goal_col) -> Tuple[float, float]:
    """A (row, col) goal: numbers (integers are cell centres, 1.3 is off-centre) inside a free cell."""
    layout = get_layout(check_maze(maze))
    values = []
    for label, value in ((ROW_LABEL, goal_row), (COL_LABEL, goal_col)):
        number = number_or_none(value)
        if number is None:
            what = "is empty" if value is None or (isinstance(value, str) and not value.strip()) else f"is {value!r}"
            raise ValueError(f"{label} {what}: enter a number (the {maze} maze's free cells, as (row, column): "
                             f"{free_cells_text(layout)})")
        values.append(number)
    row, col = values
    cell = (math.floor(row + 0.5), math.floor(col + 0.5))
    where = f"{ROW_LABEL} {row:g}, {COL_LABEL} {col:g}"
    if not layout.in_bounds(*cell):
        raise ValueError(f"{where} is outside the {maze} maze: rows are 0 to {layout.height - 1}, columns 0 to "
                         f"{layout.width - 1}; pick a free cell (row, column): {free_cells_text(layout)}")
    if not layout.is_free(*cell):
        raise ValueError(f"{where}: cell ({cell[0]}, {cell[1]}) is a wall of the {maze} maze; pick a free cell "
                         f"(row, column): {free_cells_text(layout)}")
    return row, col


def goal_cell_value(maze: str, goal_row, goal_col) -> Optional[str]:
    """The free-cell list's value ("row,col") for a goal at a cell centre, else None (no entry of the list)."""
    row, col = number_or_none(goal_row), number_or_none(goal_col)
    if maze not in MAZE_NAMES or row is None or col is None or row != int(row) or col != int(col):
        return None
    return f"{int(row)},{int(col)}" if get_layout(maze).is_free(int(row), int(col)) else None


def parse_goal_cell(maze: str, cell) -> Optional[Tuple[int, int]]:
    """A choice of the free-cell list ("row,col") as (row, col); None when nothing is chosen."""
    layout = get_layout(check_maze(maze))
    if cell is None or (isinstance(cell, str) and not cell.strip()):
        return None
    parts = str(cell).split(",")
    numbers = [number_or_none(p) for p in parts] if len(parts) == 2 else []
    if len(numbers) != 2 or None in numbers or any(v != int(v) for v in numbers) \
            or not layout.is_free(*(int(v) for v in numbers)):
        raise ValueError(f"{CELL_LABEL} must be a free cell of the {maze} maze written 'row,col', one of "
                         f"{', '.join(f'{r},{c}' for r, c in layout.free_cells())}; got {cell!r}")
    return int(numbers[0]), int(numbers[1])


def parse_t(t, n_timesteps: int, maze: str = "") -> int:
    """A diffusion step the maze's reward was trained on: 0 .. n_timesteps - 1."""
    number = number_or_none(t)
    if number is None or number != int(number) or not 0 <= number < n_timesteps:
        where = f" for the {maze} maze" if maze else ""
        raise ValueError(f"{T_LABEL} must be a whole number from 0 to {n_timesteps - 1}{where}, got {t!r}")
    return int(number)


def parse_view(view) -> str:
    if view not in VIEWS:
        raise ValueError(f"{VIEW_LABEL} must be one of {', '.join(repr(v) for v in VIEWS)}, got {view!r}")
    return view


def parse_samplers(samplers) -> List[str]:
    """One or more of SAMPLERS, in SAMPLERS' order."""
    chosen = [samplers] if isinstance(samplers, str) else list(samplers or [])
    if not chosen or any(s not in SAMPLERS for s in chosen):
        raise ValueError(f"{SAMPLERS_LABEL}: tick one or more samplers ({', '.join(SAMPLERS)}), got {chosen!r}")
    return [s for s in SAMPLERS if s in chosen]


def parse_scale(scale) -> float:
    number = number_or_none(scale)
    if number is None or not 0 <= number <= MAX_SCALE:
        raise ValueError(f"{SCALE_LABEL} must be a number from 0 to {MAX_SCALE:g}, got {scale!r}")
    return number


def parse_n(n) -> int:
    return _whole_number(n, N_LABEL, 1, MAX_TRAJECTORIES)


def parse_seed(seed) -> int:
    return _whole_number(seed, SEED_LABEL, 0, MAX_SEED)


def parse_trajectories_json(info, maze: str, goal: Sequence[float]) -> Optional[Dict[str, np.ndarray]]:
    """The positions {sampler: (n, horizon, 2)} of a maze_trajectories result, if it was sampled for this maze
    and goal; None for no result or one of another maze or goal (the picture is then drawn without paths).
    A result that is not in maze_trajectories' form raises ValueError naming what is wrong."""
    if info is None or (isinstance(info, str) and not info.strip()) or info == {}:
        return None
    expected = (f"{TRAJECTORIES_JSON_LABEL} must be what 'Sample trajectories' returns: an object with \"maze\", "
                f"\"goal\" [row, col] and \"samplers\" {{name: {{\"positions\": [[[x, y], ...], ...]}}}} "
                f"(name one of {', '.join(SAMPLERS)})")
    if isinstance(info, str):
        import json

        try:
            info = json.loads(info)
        except ValueError:
            raise ValueError(f"{expected}; it is not valid JSON") from None
    if not isinstance(info, Mapping) or not isinstance(info.get("samplers"), Mapping):
        raise ValueError(f"{expected}; got {type(info).__name__} without a \"samplers\" object")
    goal_given = info.get("goal")
    if (not isinstance(goal_given, (list, tuple)) or len(goal_given) != 2
            or any(number_or_none(v) is None for v in goal_given)):
        raise ValueError(f"{expected}; its \"goal\" is {goal_given!r}")
    if info.get("maze") != maze or [number_or_none(v) for v in goal_given] != [float(goal[0]), float(goal[1])]:
        return None
    paths = {}
    for name, entry in info["samplers"].items():
        if name not in SAMPLERS:
            raise ValueError(f"{expected}; sampler {name!r} is unknown")
        try:
            positions = np.asarray(entry["positions"], dtype=np.float64)
        except (TypeError, ValueError, KeyError, IndexError):
            positions = np.empty(0)
        if positions.ndim != 3 or positions.shape[0] < 1 or positions.shape[1] < 2 or positions.shape[2] != 2 \
                or not np.isfinite(positions).all():
            raise ValueError(f"{expected}; the {name} \"positions\" are not a list of paths of [x, y] points")
        paths[name] = positions
    return paths or None
