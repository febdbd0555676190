"""The embedded default text-to-image model: a small latent diffusion model trained here, in Stable Diffusion
1.x's layout, standing in for Stable Diffusion where its weights are not on the machine.

- ``catalogue``: the concept sets (``concept_set("v1")``, the shipped model's; ``"v2"``, the everyday world); a
  model folder records its set, and everything below takes the tables from the model's set; ``concepts``: their
  types (``Concept``, ``ConceptSet``);
- ``data``: the caption grammar (attributes, sentence forms, v1's tables; ``grammar_prompts``);
- ``drawings``: a caption's scene drawn as a 64x64 image, and the captioned samples (``generate``), with v1's
  drawings; ``pen``: the drawing helpers; ``v2/``: the v2 table and its drawings, one module per group;
- ``text_encoder``: the frozen pretrained MiniLM sentence encoder the UNet reads;
- ``model``: the VAE, UNet, scheduler and concept classifier, the shipped folder and its loader
  (``load_embedded_components``);
- ``train``: ``images train-embedded``;
- ``report``: ``images embedded-report`` (samples and what Safe Latent Diffusion does to them);
- ``safety_concepts``: ``images compare-concepts`` (choosing SLD's safety concept);
- ``vocabulary``: the words the model was trained on (the Images tab lists them, and flags the others).

``python -m reward_demo images train-embedded --concept-set v2`` trains a model of the v2 set (docs/images.md).
"""
