"""Tools: benchmarks and converters."""
