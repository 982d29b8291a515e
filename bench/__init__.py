"""Benchmarks that print figures and ratios; never assertions."""
