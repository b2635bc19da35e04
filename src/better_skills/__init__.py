"""better-skills: a skills vault for coding agents.

This module holds only the version so that importing it costs nothing.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
