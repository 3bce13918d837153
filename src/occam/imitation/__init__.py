"""imitation: the conservative Bayesian imitator of Cohen, Hutter & Nanda (JMLR 23, 2022).

Where things live:

* :mod:`occam.imitation.imitator` -- the algorithm: the top-set (alpha) rule
  :func:`top_set`, the public step :func:`imitator_step`, the log-space posterior update,
  the Ville bound; :class:`Imitator` and :class:`LazyImitator` keep the state.
* :mod:`occam.imitation.envs` -- E1 bandit, E2 lava gridworld, E3 2-D navigation: the fast
  cores, with gymnasium's reset/step interface (no gymnasium dependency).
* :mod:`occam.imitation.gym` -- the same as registered ``gymnasium.Env`` wrappers (needs the
  optional ``gym`` extra; not imported here).
* :mod:`occam.imitation.models` -- the model classes: E1 twins, E2 value-iteration grid,
  E3 demonstrator and MLP ensemble.
* :mod:`occam.imitation.baselines` -- BC, DAgger, EnsembleDAgger-style and entropy rules.
* :mod:`occam.imitation.runner` -- the online loop and its measurements.
* :mod:`occam.imitation.config` -- the config (knobs), the profiles and the claims.
* :mod:`occam.imitation.experiments` -- E1-E3: config and seeds in, numbers out.
* :mod:`occam.imitation.describe` -- the numbers behind each claim in words; the tables.
* :mod:`occam.imitation.figures` -- the figures, as Matplotlib ``Figure`` objects.
* :mod:`occam.imitation.study` -- ``run`` (the method, top to bottom) and ``STUDY``.
"""

from occam.imitation.imitator import (
    Imitator,
    LazyImitator,
    imitator_step,
    posterior_update,
    safe_alpha,
    top_set,
    ville_bound,
)

__all__ = [
    "Imitator",
    "LazyImitator",
    "imitator_step",
    "posterior_update",
    "safe_alpha",
    "top_set",
    "ville_bound",
]
