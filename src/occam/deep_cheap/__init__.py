"""deep-cheap: exact gates, a polynomial compiler, depth separation and the Hamiltonian net.

Lin, Tegmark & Rolnick (2017), "Why does deep and cheap learning work so well?" and Rolnick &
Tegmark (2018), "The power of deeper networks for expressing natural functions".

Public entry points::

    multiplication_gate(activation="softplus", lam=0.1)   # (batch, 2) -> (batch,)
    squaring_gate(...), copy_gate(...)                    # (batch,) -> (batch,)
    compile_polynomial(expr, activation="softplus", lam=None)  # (batch, n) -> (batch,)
"""

from occam.deep_cheap.depth import (
    LayeredProduct,
    ShallowMonomial,
    rt_layer_groups,
    rt_neuron_count,
    rt_width_curve,
    shallow_product,
    train_product_nets,
)
from occam.deep_cheap.gates import (
    copy_bias,
    copy_gate,
    gate_bias,
    gate_error,
    multiplication_gate,
    squaring_gate,
    taylor_coefficients,
)
from occam.deep_cheap.hamiltonian import (
    HamiltonianNetwork,
    bayes_log_posterior,
    make_gaussian_classes,
)
from occam.deep_cheap.polynomial import (
    PolynomialError,
    compile_polynomial,
    compile_polynomials,
    parse_polynomial,
    rt_monomial_bound,
)
from occam.deep_cheap.study import STUDY, DeepCheapConfig

__all__ = [
    "STUDY",
    "DeepCheapConfig",
    "HamiltonianNetwork",
    "LayeredProduct",
    "PolynomialError",
    "ShallowMonomial",
    "bayes_log_posterior",
    "compile_polynomial",
    "compile_polynomials",
    "copy_bias",
    "copy_gate",
    "gate_bias",
    "gate_error",
    "make_gaussian_classes",
    "multiplication_gate",
    "parse_polynomial",
    "rt_layer_groups",
    "rt_monomial_bound",
    "rt_neuron_count",
    "rt_width_curve",
    "shallow_product",
    "squaring_gate",
    "taylor_coefficients",
    "train_product_nets",
]
