"""PointMaze physics driven directly through MuJoCo (no gymnasium wrapper overhead).

The MuJoCo model is built by gymnasium-robotics' own ``Maze.make_maze`` from its ``point.xml`` with the
same arguments ``PointMazeEnv`` uses (``maze_size_scaling=1``, ``maze_height=0.4``), so walls, timestep
(0.01 s, Euler), damping (1), gear (100), ball (radius 0.1, mass 4.19) and contacts are identical.

``PointMazeSim.step`` reproduces ``PointEnv.step`` exactly: clip the action to [-1, 1], clip qvel to
[-5, 5] per axis, set ctrl, one ``mj_step`` (frame_skip = 1, so one env step = 0.01 s of simulated
time; the PointMaze docstring's "10 Hz" is wrong: control is at 100 Hz). Observations are
``(qpos_x, qpos_y, qvel_x, qvel_y)`` read after the step, i.e. before the next clip, so an observed
velocity can exceed 5 by up to one step of acceleration (~0.24).
"""

from __future__ import annotations

import functools
import os
import warnings

from .layouts import MazeLayout, get_layout

VELOCITY_CLIP = 5.0
MAZE_HEIGHT = 0.4  # PointMazeEnv's maze_height
MAZE_SIZE_SCALING = 1.0  # PointMazeEnv's maze_size_scaling


def _point_xml_path() -> str:
    with warnings.catch_warnings():  # gymnasium_robotics warns about Adroit envs on import
        warnings.simplefilter("ignore")
        import gymnasium_robotics.envs.maze as maze_pkg

    return os.path.join(os.path.dirname(maze_pkg.__file__), "..", "assets", "point", "point.xml")


@functools.lru_cache(maxsize=None)
def build_model_xml(maze: str) -> str:
    """The MJCF text PointMazeEnv would build for ``maze`` (via gymnasium-robotics' ``Maze.make_maze``)."""
    layout = get_layout(maze)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from gymnasium_robotics.envs.maze.maze_v4 import Maze

    _, tmp_path = Maze.make_maze(_point_xml_path(), layout.to_gymnasium_map(), MAZE_SIZE_SCALING, MAZE_HEIGHT)
    try:
        with open(tmp_path) as f:
            return f.read()
    finally:
        try:
            os.remove(tmp_path)
        except OSError:
            pass


def build_model(maze: str):
    """A fresh ``mujoco.MjModel`` of PointMaze for ``maze``."""
    import mujoco

    return mujoco.MjModel.from_xml_string(build_model_xml(maze))


class PointMazeSim:
    """Minimal PointMaze simulator: ``reset(x, y)``, ``step(ax, ay)``, ``state()``."""

    def __init__(self, maze: str):
        import mujoco

        self._mujoco = mujoco
        self.layout: MazeLayout = get_layout(maze)
        self.model = build_model(maze)
        self.data = mujoco.MjData(self.model)
        self.dt = float(self.model.opt.timestep)  # frame_skip = 1
        self._qpos = self.data.qpos
        self._qvel = self.data.qvel
        self._ctrl = self.data.ctrl
        self._step = mujoco.mj_step
        mujoco.mj_forward(self.model, self.data)

    def reset(self, x: float, y: float, vx: float = 0.0, vy: float = 0.0) -> None:
        """Teleport the ball (like ``set_state``)."""
        self._mujoco.mj_resetData(self.model, self.data)
        self._qpos[0] = x
        self._qpos[1] = y
        self._qvel[0] = vx
        self._qvel[1] = vy
        self._mujoco.mj_forward(self.model, self.data)

    def state(self) -> tuple[float, float, float, float]:
        q, v = self._qpos, self._qvel
        return float(q[0]), float(q[1]), float(v[0]), float(v[1])

    def step(self, ax: float, ay: float) -> None:
        """One PointEnv step (action and velocity clipping included)."""
        ax = -1.0 if ax < -1.0 else (1.0 if ax > 1.0 else ax)
        ay = -1.0 if ay < -1.0 else (1.0 if ay > 1.0 else ay)
        v = self._qvel
        vx, vy = v[0], v[1]
        v[0] = -VELOCITY_CLIP if vx < -VELOCITY_CLIP else (VELOCITY_CLIP if vx > VELOCITY_CLIP else vx)
        v[1] = -VELOCITY_CLIP if vy < -VELOCITY_CLIP else (VELOCITY_CLIP if vy > VELOCITY_CLIP else vy)
        self._ctrl[0] = ax
        self._ctrl[1] = ay
        self._step(self.model, self.data)
