"""Pandera (polars) models: one module per stage boundary. These are the data contracts."""
