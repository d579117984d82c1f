"""An example package of a user's own agents and environments, run by celab's loops.

docs/extending.md shows these modules; tests/test_extending.py imports them, so the page's code
is the tested code.
"""
