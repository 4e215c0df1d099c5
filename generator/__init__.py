"""NOVA Health Recovery landing-page generator: location table + copy -> static site."""

__version__ = "0.1.0"
