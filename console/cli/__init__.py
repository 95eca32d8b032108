"""Command groups of `python -m console`; each module exposes `register(subparsers)`."""

GROUPS = ("setup", "users", "ops", "audit", "tools", "chat", "daily_ops", "reports", "bench", "secrets", "gateway", "i18n")
