"""Locomotion domain (Hopper, HalfCheetah, Walker2d): expert policies and D4RL-style datasets."""
