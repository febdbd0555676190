"""The Images domain: a safety reward learned from Stable Diffusion vs Safe Latent Diffusion.

Two parts:

- ``embedded/``: the embedded default text-to-image model, a small stand-in for Stable Diffusion trained here
  (caption grammar ``data``, ``drawings``, ``text_encoder``, ``model`` (the folder and its loader), ``train``,
  ``report``, ``safety_concepts``, ``vocabulary``);
- the reward path, for any Stable Diffusion 1.x pipeline, that one included: ``pipelines`` (the two samplers),
  ``recording`` (chains), ``reward`` (the reward and its training), ``scoring`` and ``examples`` (what the UI and
  the CLI call), ``verdicts``, ``calibration``, ``batching``, ``prompt_input``, ``run_settings``, ``evaluate`` (the
  held-out protocol and report) with ``evidence`` (what the images show), ``figures`` and ``compare``
  (compare-rewards), ``commands`` (record, train-reward, score) and ``prompts`` (every written prompt set).
  ``cli`` is the command table.

The reward path imports ``embedded`` only lazily and only for the embedded model: ``pipelines`` loads it, and the
embedded-only extras (the default recording captions, unknown words, the concept classifier's evidence) read it.
"""
