"""Pretrain the base's vision tower on its own first, as a real VLM's encoder is.

A linear probe reads each merged visual token (one per 28-pixel grid cell,
row-major) and names what the cell holds: empty, or one of 4 colours x 3
shapes. Without this stage the tiny base learned colours but not shapes (its
captions named the shape right 28 % of the time, below a guess), so it could
not count. The probe is thrown away; only the tower is kept. After this stage
the tower's blocks are frozen and only its merger (the projection into the
language model) trains on, so the language model's early, noisy gradients
cannot wash out what the tower learned.

With `position_heads`, two more linear heads name each merged token's row and
column. M-RoPE gives the language model each image token's place only through
rotary phases; the heads make the place a linear feature of the token, so a
question's "third row, column 2" can find its cell by content. With it the
`where` margin over the text-only oracle went from -6 to between +4 and +44
points (about half the builds reach +30; docs/world.md).

With `count_heads`, every merged token also names how many of each shape and
each colour the whole image holds. The tower's last block attends over the
full image, so the count can live in every token; the 4-layer language model
then reads a count off any image token instead of summing 16 cells itself,
which it failed to do for `arith` (its per-kind counts were wrong in 43 of 60
answers whose arithmetic was right). Over four base seeds the `arith` margin
went to +12..+38 (mean +25), from 0 and +17 without it (docs/world.md).
"""

from __future__ import annotations

import random
from collections.abc import Callable

import torch

from .dataset import WorldConfig, draw
from .scene import COLORS, GRID, SHAPES, Item, Scene
from .tasks import Task

N_CLASSES = 1 + len(COLORS) * len(SHAPES)
MAX_COUNT = 9  # random_scene's most items, so every count is one of 0..9
HELD_OUT = 256  # scenes after the training pool, for the probe accuracy in calibration.json


def cell_labels(task: Task) -> torch.Tensor:
    """One class per cell, row-major: 0 empty, else 1 + colour * 3 + shape."""
    y = torch.zeros(GRID * GRID, dtype=torch.long)
    for row, col, color, shape in task.key[1]:
        y[row * GRID + col] = 1 + list(COLORS).index(color) * len(SHAPES) + SHAPES.index(shape)
    return y


def count_labels(task: Task) -> torch.Tensor:
    """The image's count of each shape, then of each colour (values 0..MAX_COUNT)."""
    scene = Scene(tuple(Item(*it) for it in task.key[1]))  # a task's key holds its items as (row, col, colour, shape)
    return torch.tensor([scene.count(shape=s) for s in SHAPES] + [scene.count(color=c) for c in COLORS])


def scene_tasks(world: WorldConfig, start: int, n: int) -> list[Task]:
    """The grid scenes (any renderer) among pretrain examples start..start+n."""
    return [t for t in (draw(world, "pretrain", i)[0] for i in range(start, start + n)) if t.key[0] == "scene"]


def _merged(model, processor, tasks: list[Task]) -> torch.Tensor:
    enc = processor.image_processor([t.render() for t in tasks], return_tensors="pt")
    # transformers 5: the vision tower returns the merged tokens (one per 2x2 patch block,
    # i.e. one per cell, in row-major order after its window permutation is undone) as pooler_output.
    return model.model.visual(enc["pixel_values"], grid_thw=enc["image_grid_thw"]).pooler_output


def _place(place: torch.nn.Linear, merged: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Cross-entropies of each merged token's row and of its column (tokens are row-major), and whether each
    was named right."""
    logits, cells = place(merged), torch.arange(GRID * GRID).repeat(merged.shape[0] // (GRID * GRID))
    targets = [cells // GRID, cells % GRID]
    parts = [logits[:, :GRID], logits[:, GRID:]]
    ce = torch.nn.functional.cross_entropy
    return [ce(p, t) for p, t in zip(parts, targets)], torch.stack([p.argmax(-1) == t for p, t in zip(parts, targets)])


def _counts(head: torch.nn.Linear, merged: torch.Tensor, tasks: list[Task]) -> tuple[torch.Tensor, torch.Tensor]:
    """Cross-entropy of every token's image counts, and whether each (token, count) was named right."""
    per_image = merged.shape[0] // len(tasks)
    logits = head(merged).view(-1, len(SHAPES) + len(COLORS), MAX_COUNT + 1)
    y = torch.stack([count_labels(t) for t in tasks]).repeat_interleave(per_image, 0)
    return torch.nn.functional.cross_entropy(logits.flatten(0, 1), y.flatten()), logits.argmax(-1) == y


def pretrain_vision(
    model,
    processor,
    world: WorldConfig,
    steps: int,
    batch_size: int,
    lr: float,
    seed: int,
    pool: int,
    freeze: bool = True,
    on_step: Callable[[int, float], None] | None = None,
    position_heads: bool = False,
    count_heads: bool = False,
) -> dict[str, float]:
    """Train the tower with a per-cell probe (and the asked-for heads); returns their held-out accuracies."""
    torch.manual_seed(seed)
    rng = random.Random(seed)
    tasks = scene_tasks(world, 0, pool)
    head = torch.nn.Linear(model.config.vision_config.out_hidden_size, N_CLASSES)
    # created only when asked: a module's init draws from torch's RNG, and the default build must not change
    width = model.config.vision_config.out_hidden_size
    place = torch.nn.Linear(width, 2 * GRID) if position_heads else None
    counts = torch.nn.Linear(width, (len(SHAPES) + len(COLORS)) * (MAX_COUNT + 1)) if count_heads else None
    visual = model.model.visual
    extra = [m for m in (place, counts) if m is not None]
    params = [*visual.parameters(), *head.parameters(), *(p for m in extra for p in m.parameters())]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    visual.train()
    for step in range(steps):
        batch = rng.sample(tasks, min(batch_size, len(tasks)))
        merged = _merged(model, processor, batch)
        loss = torch.nn.functional.cross_entropy(head(merged), torch.cat([cell_labels(t) for t in batch]))
        if place is not None:
            row_ce, col_ce = _place(place, merged)[0]
            loss = loss + row_ce + col_ce
        if counts is not None:
            loss = loss + _counts(counts, merged, batch)[0]
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if on_step:
            on_step(step, loss.item())
    visual.eval()
    held = scene_tasks(world, pool, HELD_OUT)
    with torch.no_grad():
        merged = _merged(model, processor, held)
        pred = head(merged).argmax(-1)
        placed = _place(place, merged)[1] if place is not None else None
        counted = _counts(counts, merged, held)[1] if counts is not None else None
    y = torch.cat([cell_labels(t) for t in held])
    full = y > 0
    if freeze:
        for name, p in visual.named_parameters():
            p.requires_grad_(name.startswith("merger"))
    out = {
        "cell_accuracy": (pred == y).float().mean().item(),
        "shape_accuracy": ((pred[full] - 1) % len(SHAPES) == (y[full] - 1) % len(SHAPES)).float().mean().item(),
        "scenes": len(held),
    }
    if placed is not None:
        out.update(row_accuracy=placed[0].float().mean().item(), col_accuracy=placed[1].float().mean().item())
    if counted is not None:
        out.update(
            shape_count_accuracy=counted[:, : len(SHAPES)].float().mean().item(),
            color_count_accuracy=counted[:, len(SHAPES) :].float().mean().item(),
        )
    return out
