"""The Images domain: a safety reward learned from Stable Diffusion vs Safe Latent Diffusion.

``text_encoder``, ``data`` and ``embedded`` hold the embedded default text-to-image model (trained here;
``load_embedded_components``); the reward path (recording, reward, evaluation) builds on any Stable
Diffusion 1.x pipeline, that one included.
"""
