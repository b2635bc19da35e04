"""The ``better-skills`` command line client (entry point: :func:`better_skills.cli.main.main`)."""

__all__: list[str] = []
