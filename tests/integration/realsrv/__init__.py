"""Helpers for auth_real_servers.py: a private two-namespace network, real
servers with throw-away configs, real clients, and the auth.jsonl check."""
