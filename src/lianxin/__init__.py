"""The lianxin command: run the platform on its embedded default, print development tokens."""
