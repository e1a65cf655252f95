"""Kommentera: a self-hosted comment moderation service."""
