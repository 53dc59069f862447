"""Procedures: definitions as data, the form engine's question types and logic, adoption."""
