"""meta-bayes: meta-trained memory agents against exact Bayes-optimal agents.

Where things live:

* ``tasks``    task distributions (Beta-Bernoulli, Dirichlet-categorical, Gamma-exponential,
               Normal-Gamma) and what a network sees of them;
* ``bayes``    the Bayes-optimal agents: closed-form predictives, the exact bandit dynamic
               programme ``solve_bandit``, Gittins, Thompson sampling, greedy;
* ``agents``   the memory-based meta-learner, FC -> LSTM/GRU -> FC;
* ``train``    meta-training: log loss with BPTT, actor-critic for bandits;
* ``compare``  behaviour (KL, returns), state-machine simulation, linear probes;
* ``study``    config, profiles, claims and ``run``; ``figures`` draws from the metrics.
"""

from occam.meta_bayes.bayes import (
    BanditSolution,
    bandit_bayes_value,
    beta_bernoulli_predictive,
    solve_bandit,
)
from occam.meta_bayes.study import STUDY, MetaBayesConfig

__all__ = [
    "STUDY",
    "BanditSolution",
    "MetaBayesConfig",
    "bandit_bayes_value",
    "beta_bernoulli_predictive",
    "solve_bandit",
]
