"""Maze2D data layer: D4RL maze layouts, a waypoint controller and point-mass dataset generation.

Self-contained: nothing here imports the rest of ``reward_demo``.
"""
