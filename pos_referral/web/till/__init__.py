"""till."""
