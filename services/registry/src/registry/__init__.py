"""Lianxin registry service."""
