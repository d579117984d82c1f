"""Shared test settings."""

import os

from hypothesis import settings

# Property-based tests: a fixed, modest budget keeps the suite fast and reproducible.
settings.register_profile("celab", max_examples=30, deadline=None, derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "celab"))
