"""Waypoint controller for the PointMaze point mass.

Planning is over the grid: a BFS from the target's cell gives, for every free cell, the next cell on a
shortest 4-neighbour path (precomputed once per target cell). Control is PD toward a waypoint: the
centre of the next cell on the path (optionally shifted by a fixed per-target offset, as the reference
generator does, to diversify trajectories), or the target itself once the ball is in the target's cell::

    action = clip(kp * (waypoint - position) - kd * velocity, -1, 1)

The waypoint switches as soon as the ball enters the next cell, so it never slows down in the middle
of a corridor. The straight segment from any point of a cell to the centre of an adjacent free cell
stays inside the union of the two cells (a 1 x 2 rectangle), so the PD pull never points into a wall.

Physics reminders (PointMaze): mass 4.19 kg, gear 100 -> |action| = 1 is ~23.9 m/s^2; joint damping 1;
velocities clipped to [-5, 5] per axis before every 0.01 s step.
"""

from __future__ import annotations

import math

import numpy as np

from .layouts import MazeLayout, _bfs_distances, validate_goal_xy

# Tuned for reliability (see tests/test_maze_data.py and the module docstring of data.py):
# terminal cruise speed ~ kp * 1.0 / kd ~ 2.5 m/s with a waypoint ~1 unit ahead.
DEFAULT_KP = 4.0
DEFAULT_KD = 1.5


class WaypointController:
    """Goal-reaching controller on a ``MazeLayout``.

    Usage::

        ctrl = WaypointController(layout)
        ctrl.set_target((x, y))              # optional waypoint_offset=(dx, dy)
        ax, ay = ctrl.action(x, y, vx, vy)   # pure-float fast path
        a = ctrl(obs, target)                # numpy convenience (re-targets when target changes)
    """

    def __init__(self, layout: MazeLayout, kp: float = DEFAULT_KP, kd: float = DEFAULT_KD):
        if not (kp > 0 and kd >= 0):
            raise ValueError(f"gains must satisfy kp > 0 and kd >= 0, got kp={kp}, kd={kd}")
        self.layout = layout
        self.kp = float(kp)
        self.kd = float(kd)
        H, W = layout.height, layout.width
        self._cx = [c - (W - 1) / 2.0 for c in range(W)]  # x of column centres
        self._cy = [(H - 1) / 2.0 - r for r in range(H)]  # y of row centres
        self._next: dict[tuple[int, int], dict[tuple[int, int], tuple[int, int]]] = {}
        self._target = None
        self._tcell = (-1, -1)
        self._table: dict[tuple[int, int], tuple[int, int]] = {}
        self._off = (0.0, 0.0)

    # ------------------------------------------------------------------ planning
    def next_cell_table(self, target_cell: tuple[int, int]) -> dict[tuple[int, int], tuple[int, int]]:
        """For each free cell that can reach ``target_cell``: the next cell on a shortest path (cached)."""
        target_cell = (int(target_cell[0]), int(target_cell[1]))
        table = self._next.get(target_cell)
        if table is None:
            dist = _bfs_distances(self.layout, *target_cell)
            table = {}
            for cell in self.layout.free_cells():
                d = dist[cell]
                if not np.isfinite(d) or d == 0:
                    continue
                for nb in self.layout.neighbours(*cell):  # fixed order -> deterministic ties
                    if dist[nb] == d - 1:
                        table[cell] = nb
                        break
            self._next[target_cell] = table
        return table

    def plan(self, start_cell: tuple[int, int], target_cell: tuple[int, int]) -> list[tuple[int, int]]:
        """BFS path of cells from ``start_cell`` to ``target_cell`` (both included)."""
        start_cell = (int(start_cell[0]), int(start_cell[1]))
        target_cell = (int(target_cell[0]), int(target_cell[1]))
        if not (self.layout.is_free(*start_cell) and self.layout.is_free(*target_cell)):
            raise ValueError(f"start {start_cell} and target {target_cell} must be free cells of maze "
                             f"{self.layout.name!r}")
        table = self.next_cell_table(target_cell)
        path = [start_cell]
        while path[-1] != target_cell:
            nxt = table.get(path[-1])
            if nxt is None:
                raise ValueError(f"no path from {start_cell} to {target_cell} in maze {self.layout.name!r}")
            path.append(nxt)
        return path

    # ------------------------------------------------------------------ control
    def set_target(self, target_xy, waypoint_offset=(0.0, 0.0)) -> None:
        """Fix the target (x, y); ``waypoint_offset`` shifts every intermediate waypoint (not the target)."""
        tx, ty = validate_goal_xy(self.layout, target_xy[0], target_xy[1])
        self._target = (tx, ty)
        self._tcell = self.layout.xy_to_cell(tx, ty)
        self._table = self.next_cell_table(self._tcell)
        self._off = (float(waypoint_offset[0]), float(waypoint_offset[1]))

    @property
    def target(self):
        return self._target

    def waypoint(self, x: float, y: float) -> tuple[float, float]:
        """The point the PD law currently aims at, for a ball at (x, y)."""
        H, W = self.layout.height, self.layout.width
        col = math.floor(x + (W - 1) / 2.0 + 0.5)
        row = math.floor((H - 1) / 2.0 - y + 0.5)
        cell = (row, col)
        if cell == self._tcell:
            return self._target
        nxt = self._table.get(cell)
        if nxt is None:  # numerically inside a wall / unreachable cell: head for the target's cell
            nxt = self._tcell
        return self._cx[nxt[1]] + self._off[0], self._cy[nxt[0]] + self._off[1]

    def action(self, x: float, y: float, vx: float, vy: float) -> tuple[float, float]:
        """PD action (clipped to [-1, 1]) toward the current waypoint; pure Python floats for speed."""
        if self._target is None:
            raise RuntimeError("call set_target() before action()")
        wx, wy = self.waypoint(x, y)
        ax = self.kp * (wx - x) - self.kd * vx
        ay = self.kp * (wy - y) - self.kd * vy
        ax = -1.0 if ax < -1.0 else (1.0 if ax > 1.0 else ax)
        ay = -1.0 if ay < -1.0 else (1.0 if ay > 1.0 else ay)
        return ax, ay

    def __call__(self, obs, target) -> np.ndarray:
        """Numpy convenience: ``obs`` (4,) = (x, y, vx, vy), ``target`` (2,); re-targets when it changes."""
        target = (float(target[0]), float(target[1]))
        if self._target is None or abs(target[0] - self._target[0]) > 1e-9 or abs(target[1] - self._target[1]) > 1e-9:
            self.set_target(target)
        o = np.asarray(obs, dtype=np.float64)
        return np.array(self.action(float(o[0]), float(o[1]), float(o[2]), float(o[3])), dtype=np.float32)
