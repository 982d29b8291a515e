"""The channels notify sends through: email and webhooks (senders, webhooks, egress); SMS (Alibaba Cloud, Tencent
Cloud), WeChat Official Accounts and WeCom (sms, wechat, phonebook, signing, targets); and the local stand-ins
operators try them against (fakeproviders, receiver)."""
