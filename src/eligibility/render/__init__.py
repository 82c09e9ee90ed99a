"""Renderers: records (plain data) in, text out. None of them reads the model directly."""
