"""Lianxin learning service."""
