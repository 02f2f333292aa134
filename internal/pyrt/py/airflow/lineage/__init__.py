"""Lineage: inlets/outlets metadata objects (kept, not acted on)."""
