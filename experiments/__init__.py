"""celab's top floor, above both labs: experiment files, output folders (locks, saving, resume),
reports, plots, the named studies (``celab reproduce``) and the contract checks
(:mod:`experiments.testing`); results as data: ``load`` (a results folder's results, by problem)
and ``summary`` (a result's per-agent summary as a frame), from :mod:`experiments.data`,
imported on first use.

Importing it imports the labs' setting modules, which register their settings
(:mod:`tracking.settings`): everything here finds a problem's setting through that registry.
"""

from bandits import linear_setting as _linear_setting  # noqa: F401 - registers "linear-bandit"
from bandits import setting as _bandit_setting  # noqa: F401 - registers "bandit"
from mdp import reasoning_setting as _reasoning_setting  # noqa: F401 - registers "reasoning"
from mdp import setting as _mdp_setting  # noqa: F401 - registers "mdp" and "continuing"
from tracking.lazy import lazy_package

lazy_package(__name__, {"load": "data:load", "summary": "data:summary"})
