"""sgd-bayes, the Bayesian side: NNGP kernels, expectation propagation and P_B(f|S).

Mingard, Valle-Perez, Skalse & Louis, "Is SGD a Bayesian sampler? Well, almost." (JMLR 2021).

Where things live:
    arch.py     architecture descriptions: build the finite network and feed its kernel
    nngp.py     NNGP kernels (ReLU FCN, CNN, Monte Carlo for any module)
    ep.py       the EP loop for GP classification, log P(S)
    pb.py       log P_B(f|S) by the paper's (joint) and the fast recipe
    exact.py    direct prior sampling, rejection, Gibbs, GHK orthant probabilities
    boolean.py  the Boolean n = 7 comparison of sampling, EP and Gibbs

Public entry points (kept stable): :func:`relu_nngp`, :func:`ep_log_marginal`, :func:`log_pb`.
"""

from occam.sgd_bayes.arch import Architecture, CNNArch, FCNArch, init_paper_
from occam.sgd_bayes.ep import EPResult, ep_log_marginal, run_ep
from occam.sgd_bayes.exact import (
    PriorCounts,
    boolean_inputs,
    gibbs_functions,
    orthant_log_prob,
    sample_functions,
)
from occam.sgd_bayes.nngp import EmpiricalKernel, cnn_nngp, empirical_nngp, relu_nngp
from occam.sgd_bayes.pb import RecipeComparison, compare_recipes, log_pb, predictive_error

__all__ = [
    "Architecture",
    "CNNArch",
    "EPResult",
    "EmpiricalKernel",
    "FCNArch",
    "PriorCounts",
    "RecipeComparison",
    "boolean_inputs",
    "cnn_nngp",
    "compare_recipes",
    "empirical_nngp",
    "run_ep",
    "ep_log_marginal",
    "gibbs_functions",
    "init_paper_",
    "log_pb",
    "orthant_log_prob",
    "predictive_error",
    "relu_nngp",
    "sample_functions",
]
