"""SQL that is more than a lookup: one module per read model."""
