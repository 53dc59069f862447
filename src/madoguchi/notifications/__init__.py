"""Notifications: messages to people, by email first."""
