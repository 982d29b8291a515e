"""Delivery at run time: the deadline handlers that send a due attempt (email, webhook, SMS, WeChat), fire a due
reminder or take an escalation step, and the delivery metrics."""
