"""Memory-based meta-learners: FC -> LSTM (or GRU) -> FC, as in Mikulik et al. (2020).

The memory state after the input of step t (which encodes the previous observation, or the
previous action and reward) is the agent's counterpart of the Bayes agent's sufficient
statistic; its output head reads only the recurrent output h. For the state-machine
simulation the full state is recorded: (h, c) concatenated for an LSTM, h for a GRU.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

Cell = Literal["lstm", "gru"]
RNNState = torch.Tensor | tuple[torch.Tensor, torch.Tensor]


class MemoryAgent(nn.Module):
    """FC + ReLU -> one recurrent layer -> FC output head (and, for bandits, a value head).

    inputs: (B, T, n_inputs). ``forward`` returns the head outputs (B, T, n_outputs), the
    value estimates (B, T) or None, and the final recurrent state.
    """

    def __init__(
        self,
        n_inputs: int,
        n_outputs: int,
        hidden: int = 32,
        cell: Cell = "lstm",
        value_head: bool = False,
    ) -> None:
        super().__init__()
        if cell not in ("lstm", "gru"):
            raise ValueError(f"cell must be 'lstm' or 'gru', got {cell!r}")
        self.cell: Cell = cell
        self.hidden = hidden
        self.fc_in = nn.Linear(n_inputs, hidden)
        self.rnn: nn.LSTM | nn.GRU = (nn.LSTM if cell == "lstm" else nn.GRU)(
            hidden, hidden, batch_first=True
        )
        self.fc_out = nn.Linear(hidden, n_outputs)
        self.value = nn.Linear(hidden, 1) if value_head else None

    @property
    def state_size(self) -> int:
        """Width of the full memory state: 2H for an LSTM (h, c), H for a GRU."""
        return 2 * self.hidden if self.cell == "lstm" else self.hidden

    def forward(
        self, inputs: torch.Tensor, state: RNNState | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None, RNNState]:
        h, state = self.rnn(F.relu(self.fc_in(inputs)), state)
        value = self.value(h)[..., 0] if self.value is not None else None
        return self.fc_out(h), value, state

    def step(
        self, inputs: torch.Tensor, state: RNNState | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None, RNNState]:
        """One step: inputs (B, n_inputs) -> outputs (B, n_outputs), value (B,) or None, state.

        Uses the fused cell kernels on the recurrent layer's own weights (the same function as
        ``forward``; oneDNN's sequence kernel is slow for length-1 calls). State: (h, c) for an
        LSTM, h for a GRU, each (B, H); None means zeros.
        """
        rnn = self.rnn
        z = F.relu(self.fc_in(inputs))
        w_ih, w_hh, b_ih, b_hh = rnn.all_weights[0]  # layer 0: the same weights forward() uses
        if self.cell == "lstm":
            if state is None:
                zeros = z.new_zeros(z.shape[0], self.hidden)
                state = (zeros, zeros)
            assert isinstance(state, tuple)
            state = torch.lstm_cell(z, state, w_ih, w_hh, b_ih, b_hh)
            h = state[0]
        else:
            if state is None:
                state = z.new_zeros(z.shape[0], self.hidden)
            assert isinstance(state, torch.Tensor)
            h = state = torch.gru_cell(z, state, w_ih, w_hh, b_ih, b_hh)
        value = self.value(h)[..., 0] if self.value is not None else None
        return self.fc_out(h), value, state

    def memory_states(self, inputs: torch.Tensor) -> torch.Tensor:
        """Full memory state after each input: (B, T, state_size), step by step (no grad)."""
        states = []
        state: RNNState | None = None
        with torch.no_grad():
            for t in range(inputs.shape[1]):
                _, _, state = self.step(inputs[:, t], state)
                states.append(flatten_state(state))
        return torch.stack(states, dim=1)

    def head_from_state(self, memory: torch.Tensor) -> torch.Tensor:
        """The output head applied to full memory states (..., state_size): reads h only."""
        return self.fc_out(memory[..., : self.hidden])


def flatten_state(state: RNNState) -> torch.Tensor:
    """A step state (h, c), each (B, H), -> (B, 2H); a GRU's h (B, H) is returned as is."""
    if isinstance(state, tuple):
        return torch.cat([state[0], state[1]], dim=-1)
    return state


# ---- output heads for each task family: network outputs -> predictive distribution ------


def predictive_params(family: str, out: torch.Tensor) -> torch.Tensor:
    """Map head outputs (..., n_outputs) to the agent's predictive distribution.

    Discrete: log-probabilities. Exponential: Lomax (shape, scale). Gaussian: Student-t
    (df, loc, scale). Positive parameters go through softplus.
    """
    if family in ("bernoulli", "categorical"):
        return F.log_softmax(out, dim=-1)
    if family == "exponential":
        return torch.stack([F.softplus(out[..., 0]) + 1e-3, F.softplus(out[..., 1]) + 1e-3], dim=-1)
    df = F.softplus(out[..., 0]) + 0.5
    return torch.stack([df, out[..., 1], F.softplus(out[..., 2]) + 1e-3], dim=-1)


def log_prob(family: str, params: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """log q(x) under the agent's predictive ``params`` (..., P) for observations x (...)."""
    if family in ("bernoulli", "categorical"):
        return params.gather(-1, x[..., None].long())[..., 0]
    if family == "exponential":
        shape, scale = params[..., 0], params[..., 1]
        return torch.log(shape) - torch.log(scale) - (shape + 1.0) * torch.log1p(x / scale)
    df, loc, scale = params[..., 0], params[..., 1], params[..., 2]
    z = (x - loc) / scale
    return (
        torch.lgamma((df + 1) / 2)
        - torch.lgamma(df / 2)
        - 0.5 * torch.log(df * torch.pi)
        - torch.log(scale)
        - (df + 1) / 2 * torch.log1p(z**2 / df)
    )
