"""Lianxin notify service."""
