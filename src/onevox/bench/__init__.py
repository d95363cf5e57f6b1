"""Benchmarks: the measured workloads, the targets, and the runner behind `onevox bench`."""
