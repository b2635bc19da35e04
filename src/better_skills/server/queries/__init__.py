"""SQL statements, one module per area. Dialect differences live here, not in the rules."""
