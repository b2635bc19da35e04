"""The local side of the vault: agents, config, store and lock, the sync planner and executor."""
