"""Benchmark scripts: they measure and print, they never assert timings."""
