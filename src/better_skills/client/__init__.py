"""Client side of the better-skills protocol: configuration, the session file and the HTTP API.

Import from the submodules (``client.api``, ``client.session_store``, ``client.config``);
this package imports nothing itself so that ``better-skills --help`` stays fast.
"""

__all__: list[str] = []
