"""rollup."""
