"""The gradient contributions of groups of examples (Stephenson et al. 2021, Sec. 5: near initialization the summed
gradient of the permuted examples is small next to that of the others, so the network fits the others first).

For a loss that sums over examples, the gradient of a group is the gradient of the group's summed loss: one backward
per group, no per-example gradients. At initialization the summed gradient of m examples whose labels are
independent of their inputs is a sum of m zero-mean terms, of norm ~ sqrt(m); that of m examples whose labels share
their inputs' features grows ~ m (tested on the toy mixture in tests/theory/test_gradients.py)."""

from __future__ import annotations

import torch

__all__ = ["compare_groups", "group_gradients"]


def group_gradients(
    per_example_loss: torch.Tensor, params: list[torch.Tensor], groups: dict[str, torch.Tensor]
) -> dict[str, list[torch.Tensor]]:
    """For each named boolean mask (n,) over the examples of `per_example_loss` (n,), the gradient of the summed loss
    of that group with respect to `params` (a list of tensors like params; zeros for an empty group)."""
    out = {}
    for name, mask in groups.items():
        loss = per_example_loss[mask].sum()
        grads = torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True) if mask.any() else None
        out[name] = [
            torch.zeros_like(p) if grads is None or g is None else g.detach()
            for p, g in zip(params, grads or [None] * len(params))
        ]
    return out


def _flat(tensors: list[torch.Tensor]) -> torch.Tensor:
    return torch.cat([t.reshape(-1).double() for t in tensors]) if tensors else torch.zeros(0, dtype=torch.float64)


def compare_groups(a: list[torch.Tensor], b: list[torch.Tensor], count_a: int, count_b: int) -> dict[str, float]:
    """Two groups' summed gradients over the same parameters: their norms, per example (norm / count), the ratio
    |a| / |b| and the cosine of each with the full gradient a + b (nan where a norm is 0)."""
    ga, gb = _flat(a), _flat(b)
    full = ga + gb
    na, nb, nf = float(ga.norm()), float(gb.norm()), float(full.norm())

    def cos(g: torch.Tensor, n: float) -> float:
        return float(g @ full) / (n * nf) if n > 0 and nf > 0 else float("nan")

    return {
        "norm_a": na,
        "norm_b": nb,
        "per_example_a": na / count_a if count_a else float("nan"),
        "per_example_b": nb / count_b if count_b else float("nan"),
        "ratio": na / nb if nb > 0 else float("nan"),
        "cos_a_full": cos(ga, na),
        "cos_b_full": cos(gb, nb),
    }
