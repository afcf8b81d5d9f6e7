"""Benchmarks (``make bench``): fan-out, throughput, scaling, cold starts, sizes and cost."""
