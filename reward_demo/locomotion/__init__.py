"""The locomotion domain (Hopper, HalfCheetah, Walker2d): a relative reward learned from a base and an expert
diffusion planner, steering the base.

``experts`` and ``policy`` train and export the expert policies and record the D4RL-style datasets; ``train``
trains the planners and the reward, ``onpolicy`` fine-tunes the reward on the steered planner's own states,
``planner`` loads the models and plans, ``evaluate`` is the held-out evaluation; ``demo``, ``demo_results`` and
``render`` serve the Locomotion tab; ``cli`` is the domain's command table.
"""
