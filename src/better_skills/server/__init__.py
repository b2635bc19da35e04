"""The better-skills authentication server (install with the ``server`` extra)."""
