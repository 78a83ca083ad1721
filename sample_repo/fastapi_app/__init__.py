"""Inventory and ordering API."""
