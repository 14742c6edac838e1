"""pnet: explore and debug the private network of a Render or Railway workspace."""

__version__ = "0.1.0"
