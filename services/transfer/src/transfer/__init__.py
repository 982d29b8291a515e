"""Lianxin transfer service."""
