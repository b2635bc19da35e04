"""One module per command; each imports only click at module level so ``--help`` stays fast."""

__all__: list[str] = []
