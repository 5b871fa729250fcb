"""A grid scene of coloured shapes, and its rendering.

The image is a 4x4 grid of 28-pixel cells: one cell is exactly one merged
2x2 patch of Qwen2.5-VL's vision tower (patch 14, merge 2), so each visual
token the language model sees covers one cell. That keeps the world
learnable by a tiny model on a CPU while using the real architecture.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from PIL import Image, ImageDraw

CELL = 28
GRID = 4
SIZE = CELL * GRID  # 112 px

COLORS: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40),
    "green": (40, 170, 60),
    "blue": (40, 80, 220),
    "yellow": (230, 200, 30),
}
SHAPES: tuple[str, ...] = ("circle", "square", "triangle")
BACKGROUND = (255, 255, 255)
ROW_NAMES = ("top", "second", "third", "bottom")


@dataclass(frozen=True)
class Item:
    row: int
    col: int
    color: str
    shape: str


@dataclass(frozen=True)
class Scene:
    items: tuple[Item, ...]

    def count(self, color: str | None = None, shape: str | None = None) -> int:
        return sum(
            1
            for it in self.items
            if (color is None or it.color == color) and (shape is None or it.shape == shape)
        )

    def at(self, row: int, col: int) -> Item | None:
        for it in self.items:
            if it.row == row and it.col == col:
                return it
        return None


def random_scene(rng: random.Random, min_items: int = 3, max_items: int = 9) -> Scene:
    n = rng.randint(min_items, max_items)
    cells = rng.sample([(r, c) for r in range(GRID) for c in range(GRID)], n)
    items = tuple(
        Item(r, c, rng.choice(list(COLORS)), rng.choice(SHAPES)) for r, c in sorted(cells)
    )
    return Scene(items)


def draw_shape(draw: ImageDraw.ImageDraw, x0: int, y0: int, size: int, shape: str, fill) -> None:
    m = max(2, size // 7)
    box = (x0 + m, y0 + m, x0 + size - m - 1, y0 + size - m - 1)
    if shape == "circle":
        draw.ellipse(box, fill=fill)
    elif shape == "square":
        draw.rectangle(box, fill=fill)
    elif shape == "triangle":
        draw.polygon([(x0 + size // 2, box[1]), (box[0], box[3]), (box[2], box[3])], fill=fill)
    else:  # pragma: no cover - guarded by SHAPES
        raise ValueError(f"unknown shape {shape!r}")


def render_scene(scene: Scene) -> Image.Image:
    img = Image.new("RGB", (SIZE, SIZE), BACKGROUND)
    draw = ImageDraw.Draw(img)
    for it in scene.items:
        draw_shape(draw, it.col * CELL, it.row * CELL, CELL, it.shape, COLORS[it.color])
    return img


def render_bars(heights: dict[str, int]) -> Image.Image:
    """One bar per column, in colour order; heights are whole cells (1-4)."""
    img = Image.new("RGB", (SIZE, SIZE), BACKGROUND)
    draw = ImageDraw.Draw(img)
    for col, (color, h) in enumerate(heights.items()):
        x0 = col * CELL + 4
        draw.rectangle((x0, SIZE - h * CELL, x0 + CELL - 9, SIZE - 1), fill=COLORS[color])
    return img


# Pip positions on a 3x3 lattice, indexed (row, col), for faces 1-6.
PIPS: dict[int, tuple[tuple[int, int], ...]] = {
    1: ((1, 1),),
    2: ((0, 0), (2, 2)),
    3: ((0, 0), (1, 1), (2, 2)),
    4: ((0, 0), (0, 2), (2, 0), (2, 2)),
    5: ((0, 0), (0, 2), (1, 1), (2, 0), (2, 2)),
    6: ((0, 0), (0, 2), (1, 0), (1, 2), (2, 0), (2, 2)),
}


def render_dice(faces: list[int]) -> Image.Image:
    """Two dice side by side, each 56 px wide (a 2x4 block of cells)."""
    img = Image.new("RGB", (SIZE, SIZE), BACKGROUND)
    draw = ImageDraw.Draw(img)
    half = SIZE // 2
    for i, face in enumerate(faces):
        x0, y0 = i * half, half // 2
        draw.rectangle((x0 + 2, y0 + 2, x0 + half - 3, y0 + half - 3), outline=(0, 0, 0), width=2)
        step = (half - 8) // 3
        for r, c in PIPS[face]:
            cx, cy = x0 + 4 + step * c + step // 2, y0 + 4 + step * r + step // 2
            draw.ellipse((cx - 4, cy - 4, cx + 4, cy + 4), fill=(0, 0, 0))
    return img
