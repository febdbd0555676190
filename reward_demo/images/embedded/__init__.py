"""The embedded default text-to-image model: a small latent diffusion model trained here, in Stable Diffusion
1.x's layout, standing in for Stable Diffusion where its weights are not on the machine.

- ``data``: the caption grammar (concepts, attributes, sentence forms; ``grammar_prompts``);
- ``drawings``: a caption's scene drawn as a 64x64 image, and the captioned samples (``generate``);
- ``text_encoder``: the frozen pretrained MiniLM sentence encoder the UNet reads;
- ``model``: the VAE, UNet, scheduler and concept classifier, the shipped folder and its loader
  (``load_embedded_components``);
- ``train``: ``images train-embedded``;
- ``report``: ``images embedded-report`` (samples and what Safe Latent Diffusion does to them);
- ``safety_concepts``: ``images compare-concepts`` (choosing SLD's safety concept);
- ``vocabulary``: the words the model was trained on (the Images tab lists them, and flags the others).
"""
