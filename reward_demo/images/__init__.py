"""The Images domain: a safety reward learned from Stable Diffusion vs Safe Latent Diffusion.

Two parts:

- ``embedded/``: the embedded default text-to-image model, a small stand-in for Stable Diffusion trained here
  (caption grammar ``data``, ``drawings``, ``text_encoder``, ``model`` (the folder and its loader), ``train``,
  ``report``, ``safety_concepts``, ``vocabulary``);
- the reward path, for any Stable Diffusion 1.x pipeline, that one included, in the shape every domain has:

  - ``data``: the two samplers' recorded chains (``images record``), saved and loaded back, what is read from them
    (rows of prompts, standardisation statistics, final latents), and prompt files;
  - ``models``: the two samplers (SD and SLD over one set of weights) and the learned reward, with their loaders
    and the verdict threshold and band stored with the reward;
  - ``reward``: the reward network and ``final_rewards``; ``train``: building it and training it by gradient
    matching (``images train-reward``);
  - ``inference``: scoring prompts, what the tab and the commands call (``images score``);
  - ``evaluate``: the held-out protocol and report (``images evaluate``) and the choice between reward checkpoints
    (``images compare-rewards``), with ``evidence`` (what the images show) and ``figures`` (its figure and
    summaries);
  - ``verdicts``: safe / unsafe / uncertain (pure rules); ``calibration``: calibrating the threshold and band
    (``images calibrate-threshold``);
  - ``demo``: the tab's service (``ImagesDemo``), scored runs without the UI and the precomputed examples
    (``images examples``), with ``batching`` (the queue that batches concurrent requests) and ``inputs`` (checks
    of what a visitor types or uploads);
  - ``prompts``: every written prompt set (calibration, evaluation, examples);
  - ``cli``: the command table.

The reward path imports ``embedded`` only lazily and only for the embedded model: ``models`` loads it, and the
embedded-only extras (the default recording captions, unknown words, the concept classifier's evidence) read it.
"""
