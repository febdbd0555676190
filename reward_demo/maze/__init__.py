"""The Maze2D domain: a goal-conditioned relative reward learned from an unconditional base planner and a
goal-conditioned expert planner on D4RL mazes.

``layouts``, ``physics``, ``controller`` and ``data`` generate the point-mass datasets (self-contained: they
import nothing else from ``reward_demo``); ``models`` trains and loads the planners and the reward,
``inference`` reads heatmaps and samples trajectories from them, ``evaluate`` is the held-out evaluation,
``inputs`` checks the Maze tab's inputs and ``cli`` is the domain's command table.
"""
