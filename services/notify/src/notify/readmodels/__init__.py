"""Notify's read models: deliveries, inbox, reminders and policy (projection.py), the phone channels (mobile.py)."""
