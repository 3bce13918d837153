"""Model classes for E1-E3: the imitator's hypotheses about the demonstrator.

* E1 :func:`bandit_class` -- the true Dirichlet policy, near-twins that put mass eps on the
  hazard action, and random policies.
* E2 :func:`value_iteration` and :func:`gridworld_class` -- Boltzmann policies
  ``softmax(beta * (Q_kappa(s, g, a) + Phi_j(next(s, a))))`` over a grid of inverse
  temperatures beta, caution costs kappa (cost of entering a lava-adjacent cell) and random
  potentials Phi_j. Cautious models (kappa > 0) give lava-entering moves probability exactly 0.
* E3 :func:`nav_demonstrator` (a cautious analytic controller) and :class:`MLPEnsemble`, a
  batched ensemble of small MLPs used as an approximate posterior.

A tabular class is a :class:`TabularClass`: ``probs[m, key, a]`` for every model m and
observation key, a log prior, and the index of the true demonstrator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import NDArray

from occam.imitation.envs import ContextualBandit, HazardNav2D, LavaGrid

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass
class TabularClass:
    """A finite model class over a finite observation set.

    probs: shape (M, K, A), ``probs[m, key]`` is model m's action distribution at key.
    log_prior: shape (M,), log prior weights (summing to 1 in linear space).
    truth: index of the demonstrator, ``probs[truth]`` is pi_d exactly.
    labels: shape (M,), a short description of each model (for tables).
    """

    probs: FloatArray
    log_prior: FloatArray
    truth: int
    labels: list[str]

    def __post_init__(self) -> None:
        with np.errstate(divide="ignore"):
            self.log_probs = np.log(self.probs)  # -inf where a model gives probability 0

    @property
    def n_models(self) -> int:
        return int(self.probs.shape[0])

    @property
    def prior_truth(self) -> float:
        return float(math.exp(self.log_prior[self.truth]))


# ---------------------------------------------------------------------------------------
# E1: contextual bandit
# ---------------------------------------------------------------------------------------


def bandit_class(
    rng: np.random.Generator,
    n_contexts: int = 20,
    n_actions: int = 5,
    n_hazard_contexts: int = 4,
    n_twins: int = 99,
    n_random: int = 100,
    twin_eps: tuple[float, ...] = (0.02, 0.1),
) -> tuple[ContextualBandit, TabularClass]:
    """E1: the bandit and its model class (uniform prior, truth at a random index).

    The hazard is the last action in contexts ``0 .. n_hazard_contexts-1``. The truth is a
    Dirichlet(1) policy with the hazard's probability set to 0 there. Twin j equals the truth
    except in hazard contexts, where it is ``(1 - eps) * truth + eps * hazard`` with eps cycling
    through ``twin_eps``. Random models are Dirichlet(1) everywhere (the hazard included).
    Rewards are U(0, 1), and -1 for the hazard.
    """
    hazard = n_actions - 1
    hz = np.arange(n_hazard_contexts)
    truth = rng.dirichlet(np.ones(n_actions), size=n_contexts)
    truth[hz, hazard] = 0.0
    truth /= truth.sum(axis=1, keepdims=True)
    twins = np.repeat(truth[None], n_twins, axis=0)
    labels = ["truth"]
    for j in range(n_twins):
        eps = twin_eps[j % len(twin_eps)]
        twins[j, hz] *= 1.0 - eps
        twins[j, hz, hazard] += eps
        labels.append(f"twin eps={eps:g}")
    randoms = rng.dirichlet(np.ones(n_actions), size=(n_random, n_contexts))
    labels += ["random"] * n_random
    probs = np.concatenate([truth[None], twins, randoms], axis=0)
    perm = rng.permutation(probs.shape[0])  # the truth sits at a random index
    probs, labels = probs[perm], [labels[i] for i in perm]
    m = probs.shape[0]
    rewards = rng.uniform(0.0, 1.0, size=(n_contexts, n_actions))
    rewards[hz, hazard] = -1.0
    env = ContextualBandit(rewards, tuple(int(c) for c in hz), hazard)
    tc = TabularClass(probs, np.full(m, -math.log(m)), int(np.argmin(perm)), labels)
    return env, tc


# ---------------------------------------------------------------------------------------
# E2: gridworld
# ---------------------------------------------------------------------------------------


def value_iteration(
    env: LavaGrid,
    goal_cell: int,
    caution: float,
    gamma: float = 0.99,
    lava_cost: float = 10.0,
    tol: float = 1e-10,
    max_iter: int = 5000,
) -> FloatArray:
    """``Q[c, a]`` (shape (n_cells, 5)) for reaching ``goal_cell`` in E2's dynamics.

    Every step costs 1; entering a lava-adjacent cell costs ``caution`` more; trying to enter
    lava costs ``lava_cost`` (the move is blocked). A move succeeds with probability
    ``1 - slip``, else the agent stays. The goal is absorbing with value 0:
    ``Q(c, a) = r(c, a) + gamma * [(1 - slip) V(next(c, a)) + slip V(c)]``, ``V = max_a Q``.
    """
    nxt, lava_move, slip = env.next_cell, env.enters_lava, env.slip
    adj = env.lava_adjacent().astype(np.float64)
    ok = 1.0 - slip
    reward = -1.0 - caution * (ok * adj[nxt] + slip * adj[:, None]) - lava_cost * ok * lava_move
    v = np.zeros(env.n_cells)
    q = reward.copy()
    for _ in range(max_iter):
        v_goal = v.copy()
        v_goal[goal_cell] = 0.0
        q = reward + gamma * (ok * v_goal[nxt] + slip * v_goal[:, None])
        q[goal_cell] = 0.0
        new_v = q.max(axis=1)
        new_v[env.lava] = 0.0  # lava is never occupied
        if np.abs(new_v - v).max() < tol:
            v = new_v
            break
        v = new_v
    return q


def boltzmann(logits: FloatArray, mask: NDArray[np.bool_] | None = None) -> FloatArray:
    """``softmax(logits)`` over the last axis, with probability exactly 0 where ``mask``."""
    z = logits - logits.max(axis=-1, keepdims=True)
    p = np.exp(z)
    if mask is not None:
        p = np.where(mask, 0.0, p)
    return p / p.sum(axis=-1, keepdims=True)


def gridworld_class(
    env: LavaGrid,
    rng: np.random.Generator,
    betas: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0),
    cautions: tuple[float, ...] = (0.0, 1.0, 2.0),
    n_potentials: int = 8,
    potential_scale: float = 0.5,
    truth_beta: float = 2.0,
    truth_caution: float = 2.0,
) -> TabularClass:
    """E2's class: the grid betas x cautions x potentials, uniform prior.

    Model (beta, kappa, j) at key ``(goal, cell)`` plays
    ``softmax(beta * (Q_kappa,goal(cell, a) + Phi_j(next(cell, a))))`` where Phi_j is a random
    potential on the cells (N(0, potential_scale^2); a shaping term that tilts the walk).
    Models with kappa > 0 are cautious: lava-entering moves get probability exactly 0.
    The truth is (truth_beta, truth_caution, j*) with j* drawn from ``rng``.
    """
    if truth_beta not in betas or truth_caution not in cautions or truth_caution <= 0:
        raise ValueError("the truth's (beta, caution) must be on the grid, with caution > 0")
    n_cells, n_goals = env.n_cells, env.n_goals
    q = np.stack(
        [
            np.stack([value_iteration(env, env.goals[g], k) for g in range(n_goals)])
            for k in cautions
        ]
    )  # (n_kappa, n_goals, n_cells, 5)
    phi = rng.normal(0.0, potential_scale, size=(n_potentials, n_cells))
    phi_next = phi[:, env.next_cell]  # (n_phi, n_cells, 5)
    lava_mask = np.broadcast_to(env.enters_lava, (n_goals, n_cells, 5))
    probs, labels = [], []
    for b in betas:
        for ki, k in enumerate(cautions):
            for j in range(n_potentials):
                logits = b * (q[ki] + phi_next[j][None])
                p = boltzmann(logits, lava_mask if k > 0 else None)
                probs.append(p.reshape(n_goals * n_cells, 5))
                labels.append(f"beta={b:g} kappa={k:g} phi={j}")
    j_true = int(rng.integers(n_potentials))
    truth = labels.index(f"beta={truth_beta:g} kappa={truth_caution:g} phi={j_true}")
    m = len(probs)
    return TabularClass(np.stack(probs), np.full(m, -math.log(m)), truth, labels)


# ---------------------------------------------------------------------------------------
# E3: continuous navigation
# ---------------------------------------------------------------------------------------


def geodesic_to_goal(
    px: float, py: float, gx: float, gy: float, cx: float, cy: float, r: float
) -> float:
    """Shortest-path length from (px, py) to (gx, gy) around the disc (centre (cx, cy), radius r).

    If the straight segment misses the disc: the Euclidean distance. Otherwise the two
    tangent lengths plus the arc between the tangent points. Points inside the disc count as
    lying on its rim. (Plain floats: it is called 5 times per step, where numpy's per-call
    overhead would dominate.)
    """
    ax, ay, bx, by = px - cx, py - cy, gx - cx, gy - cy
    sx, sy = bx - ax, by - ay
    seg2 = sx * sx + sy * sy
    t = 0.0 if seg2 < 1e-18 else min(1.0, max(0.0, -(ax * sx + ay * sy) / seg2))
    if math.hypot(ax + t * sx, ay + t * sy) >= r:
        return math.hypot(sx, sy)
    da, db = max(math.hypot(ax, ay), r), max(math.hypot(bx, by), r)
    cosang = (ax * bx + ay * by) / max(math.hypot(ax, ay) * math.hypot(bx, by), 1e-18)
    ang = math.acos(min(1.0, max(-1.0, cosang)))
    arc = max(0.0, ang - math.acos(r / da) - math.acos(r / db))
    return math.sqrt(da * da - r * r) + math.sqrt(db * db - r * r) + r * arc


def nav_demonstrator(
    env: HazardNav2D, obs: FloatArray, beta: float = 3.0, caution: float = 2.0, margin: float = 0.1
) -> FloatArray:
    """E3's demonstrator: a cautious Boltzmann controller; shape (5,) action probabilities.

    ``logit(a) = -(beta * geo(next_a) + caution * max(0, r + margin - |next_a - c|)) / step``
    where geo is the path length to the goal around the disc inflated by ``margin / 2``.
    Moves that would end in the hazard disc get probability exactly 0.
    """
    px, py, gx, gy = (float(v) for v in obs)
    cx, cy = float(env.centre[0]), float(env.centre[1])
    r, step = env.radius, env.step_size
    logits, allowed = [], []
    for dx, dy in env.deltas.tolist():
        nx, ny = min(1.0, max(0.0, px + dx)), min(1.0, max(0.0, py + dy))
        dist_c = math.hypot(nx - cx, ny - cy)
        geo = geodesic_to_goal(nx, ny, gx, gy, cx, cy, r + margin / 2)
        logits.append(-(beta * geo + caution * max(0.0, r + margin - dist_c)) / step)
        allowed.append(dist_c >= r)
    top = max(lg for lg, ok in zip(logits, allowed, strict=True) if ok)
    p = [math.exp(lg - top) if ok else 0.0 for lg, ok in zip(logits, allowed, strict=True)]
    total = sum(p)
    return np.array([q / total for q in p])


def nav_features(env: HazardNav2D, obs: FloatArray) -> FloatArray:
    """The MLPs' input for an observation ``[x, y, gx, gy]`` (shape (14,)): position, goal,
    goal - position, position - centre, distance to the centre, and for each of the five
    moves the clearance ``|next_a - c| - r`` (negative: the move would end in the hazard).
    The model may know the dynamics; it does not know how the demonstrator uses them."""
    px, py, gx, gy = (float(v) for v in obs)
    cx, cy = float(env.centre[0]), float(env.centre[1])
    rx, ry = px - cx, py - cy
    clear = [
        math.hypot(min(1.0, max(0.0, px + dx)) - cx, min(1.0, max(0.0, py + dy)) - cy) - env.radius
        for dx, dy in env.deltas.tolist()
    ]
    return np.array([px, py, gx, gy, gx - px, gy - py, rx, ry, math.hypot(rx, ry), *clear])


N_NAV_FEATURES = 14


class MLPEnsemble:
    """K small MLPs (``in -> hidden -> hidden -> A``, ReLU) trained as one batched model.

    Member k's logits are ``f_k(x) + prior_scale * g_k(x)``: a trained net plus a fixed,
    untrained random "prior" net of the same shape (randomised prior functions, Osband et al.
    2018), so the members keep disagreeing where there is no data -- an untrained ensemble
    should look ignorant, not confidently uniform. Each member sees its own online bootstrap
    of the data: every example gets a Poisson(1) weight per member when it is added.
    Training is a few Adam steps on minibatches, warm started. Prediction runs in NumPy on a
    copy of the weights (tiny inputs: no torch overhead per step).
    """

    def __init__(
        self,
        n_members: int,
        n_in: int,
        n_actions: int,
        hidden: int = 32,
        lr: float = 3e-3,
        prior_scale: float = 1.0,
        seed: int = 0,
    ) -> None:
        self.gen = torch.Generator().manual_seed(seed)
        self.rng = np.random.default_rng(seed)
        self.n_members = k = n_members
        sizes = [(n_in, hidden), (hidden, hidden), (hidden, n_actions)]

        def layers() -> list[torch.Tensor]:
            out = []
            for fan_in, fan_out in sizes:
                w = torch.randn(k, fan_in, fan_out, generator=self.gen, dtype=torch.float64)
                b = 0.1 * torch.randn(k, 1, fan_out, generator=self.gen, dtype=torch.float64)
                out += [w / math.sqrt(fan_in), b]
            return out

        self.params = [p.requires_grad_() for p in layers()]
        self.prior = layers()  # fixed, never trained
        self.prior_scale = prior_scale
        # Adam by hand (torch.optim would import torch._dynamo: seconds of start-up per run).
        self.lr, self.betas, self.eps, self.n_updates = lr, (0.9, 0.999), 1e-8, 0
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.x: list[FloatArray] = []
        self.y: list[int] = []
        self.boot: list[FloatArray] = []  # per-example Poisson(1) weights, shape (K,)
        self._sync()

    def _sync(self) -> None:
        # Trained and prior nets stacked along the member axis: one forward pass for both.
        self.np_params = [
            np.concatenate([p.detach().numpy(), q.numpy()], axis=0)
            for p, q in zip(self.params, self.prior, strict=True)
        ]

    def add(self, x: FloatArray, y: int) -> None:
        """Add one labelled example (features shape (n_in,), action y)."""
        self.x.append(x)
        self.y.append(y)
        self.boot.append(self.rng.poisson(1.0, size=self.n_members).astype(np.float64))

    def fit(self, n_steps: int, batch_size: int = 64) -> None:
        """``n_steps`` Adam steps on bootstrap-weighted minibatches of all data so far."""
        n = len(self.y)
        if n == 0:
            return
        x = torch.from_numpy(np.asarray(self.x))
        y = torch.tensor(self.y)
        boot = torch.from_numpy(np.asarray(self.boot))  # (n, K)
        k = self.n_members
        for _ in range(n_steps):
            idx = torch.randint(n, (min(batch_size, n),), generator=self.gen)
            xb = x[idx].unsqueeze(0).expand(k, -1, -1)
            with torch.no_grad():
                prior_logits = self._forward(self.prior, xb)
            logits = self._forward(self.params, xb) + self.prior_scale * prior_logits
            logp = torch.log_softmax(logits, dim=-1)  # (K, B, A)
            nll = -logp.gather(-1, y[idx].view(1, -1, 1).expand(k, -1, 1))[..., 0]
            wts = boot[idx].T  # (K, B)
            loss = (wts * nll).sum() / wts.sum().clamp(min=1.0)
            grads = torch.autograd.grad(loss, self.params)
            self._adam(grads)
        self._sync()

    @torch.no_grad()
    def _adam(self, grads: tuple[torch.Tensor, ...]) -> None:
        """One Adam step (Kingma & Ba 2015) with bias correction."""
        self.n_updates += 1
        b1, b2 = self.betas
        c1, c2 = 1.0 - b1**self.n_updates, 1.0 - b2**self.n_updates
        for p, g, m, v in zip(self.params, grads, self.m, self.v, strict=True):
            m.mul_(b1).add_(g, alpha=1.0 - b1)
            v.mul_(b2).addcmul_(g, g, value=1.0 - b2)
            p.sub_(self.lr * (m / c1) / ((v / c2).sqrt() + self.eps))

    @staticmethod
    def _forward(params: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        w1, b1, w2, b2, w3, b3 = params
        h = torch.relu(torch.bmm(x, w1) + b1)
        h = torch.relu(torch.bmm(h, w2) + b2)
        return torch.bmm(h, w3) + b3

    @staticmethod
    def _np_forward(params: list[FloatArray], x: FloatArray) -> FloatArray:
        w1, b1, w2, b2, w3, b3 = params  # w: (K, in, out), b: (K, 1, out)
        h = np.maximum(np.matmul(x[None, None, :], w1) + b1, 0.0)  # (K, 1, H)
        h = np.maximum(np.matmul(h, w2) + b2, 0.0)
        return (np.matmul(h, w3) + b3)[:, 0]

    def probs(self, x: FloatArray) -> FloatArray:
        """Each member's action probabilities at one input (shape (n_in,)): shape (K, A)."""
        out = self._np_forward(self.np_params, x)  # (2K, A): trained nets, then prior nets
        k = self.n_members
        return boltzmann(out[:k] + self.prior_scale * out[k:])
