"""Pretrain the base's vision tower on its own first, as a real VLM's encoder is.

A linear probe reads each merged visual token (one per 28-pixel grid cell,
row-major) and names what the cell holds: empty, or one of 4 colours x 3
shapes. Without this stage the tiny base learned colours but not shapes (its
captions named the shape right 28 % of the time, below a guess), so it could
not count. The probe is thrown away; only the tower is kept. After this stage
the tower's blocks are frozen and only its merger (the projection into the
language model) trains on, so the language model's early, noisy gradients
cannot wash out what the tower learned.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import torch

from .dataset import WorldConfig, draw
from .scene import COLORS, GRID, SHAPES
from .tasks import Task

N_CLASSES = 1 + len(COLORS) * len(SHAPES)
HELD_OUT = 256  # scenes after the training pool, for the probe accuracy in calibration.json


def cell_labels(task: Task) -> torch.Tensor:
    """One class per cell, row-major: 0 empty, else 1 + colour * 3 + shape."""
    y = torch.zeros(GRID * GRID, dtype=torch.long)
    for row, col, color, shape in task.key[1]:
        y[row * GRID + col] = 1 + list(COLORS).index(color) * len(SHAPES) + SHAPES.index(shape)
    return y


def scene_tasks(world: WorldConfig, start: int, n: int) -> list[Task]:
    """The grid scenes (any renderer) among pretrain examples start..start+n."""
    return [t for t in (draw(world, "pretrain", i)[0] for i in range(start, start + n)) if t.key[0] == "scene"]


def _cell_logits(model, processor, head: torch.nn.Linear, tasks: list[Task]) -> torch.Tensor:
    enc = processor.image_processor([t.render() for t in tasks], return_tensors="pt")
    # transformers 5: the vision tower returns the merged tokens (one per 2x2 patch block,
    # i.e. one per cell, in row-major order after its window permutation is undone) as pooler_output.
    merged = model.model.visual(enc["pixel_values"], grid_thw=enc["image_grid_thw"]).pooler_output
    return head(merged)


def pretrain_vision(
    model, processor, world: WorldConfig, steps: int, batch_size: int, lr: float, seed: int,
    pool: int, freeze: bool = True, on_step: Callable[[int, float], None] | None = None,
) -> dict[str, float]:
    """Train the tower with a per-cell probe; returns the probe's held-out cell and shape accuracy."""
    torch.manual_seed(seed)
    rng = random.Random(seed)
    tasks = scene_tasks(world, 0, pool)
    head = torch.nn.Linear(model.config.vision_config.out_hidden_size, N_CLASSES)
    visual = model.model.visual
    opt = torch.optim.AdamW([*visual.parameters(), *head.parameters()], lr=lr, weight_decay=0.01)
    visual.train()
    for step in range(steps):
        batch = rng.sample(tasks, min(batch_size, len(tasks)))
        loss = torch.nn.functional.cross_entropy(
            _cell_logits(model, processor, head, batch), torch.cat([cell_labels(t) for t in batch])
        )
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if on_step:
            on_step(step, loss.item())
    visual.eval()
    held = scene_tasks(world, pool, HELD_OUT)
    with torch.no_grad():
        pred = _cell_logits(model, processor, head, held).argmax(-1)
    y = torch.cat([cell_labels(t) for t in held])
    full = y > 0
    if freeze:
        for name, p in visual.named_parameters():
            p.requires_grad_(name.startswith("merger"))
    return {
        "cell_accuracy": (pred == y).float().mean().item(),
        "shape_accuracy": ((pred[full] - 1) % len(SHAPES) == (y[full] - 1) % len(SHAPES)).float().mean().item(),
        "scenes": len(held),
    }
