"""gan_core: an exact torch implementation of the GAN of Goodfellow et al. (2014), with the DCGAN guidelines
as independent switches. Imports nothing of Ray, so it works from a notebook or a plain script."""
from gan_core.config import GANConfig

__all__ = ["GANConfig"]
