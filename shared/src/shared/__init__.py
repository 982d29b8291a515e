"""Plumbing shared by every Lianxin service; it never imports a service."""
