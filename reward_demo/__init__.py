"""reward-demo: relative reward functions extracted from pairs of diffusion models (Nuti et al. 2023)."""
from . import networks  # noqa: F401  (registers the architectures)
from .checkpoint import default_device, from_pretrained, save_pretrained
from .diffusion import GaussianDiffusion

__all__ = ["GaussianDiffusion", "default_device", "from_pretrained", "save_pretrained"]
