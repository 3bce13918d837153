"""occam: reproduce, check and extend research on why neural networks generalise."""

__version__ = "0.1.0"
