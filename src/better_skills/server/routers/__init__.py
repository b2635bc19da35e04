"""HTTP routers: each translates requests into service calls and results back into responses."""
