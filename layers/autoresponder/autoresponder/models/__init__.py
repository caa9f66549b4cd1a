"""Pydantic models: the alarm event, the table description, the decision."""
