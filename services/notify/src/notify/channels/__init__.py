"""Channels that reach people on their phones: SMS (Alibaba Cloud, Tencent Cloud), WeChat Official Accounts, WeCom."""
