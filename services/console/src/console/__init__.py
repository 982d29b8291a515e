"""Lianxin console: server-rendered pages for members (phone) and secretaries (desk) over the services' APIs."""
