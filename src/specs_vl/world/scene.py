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
# The shifted renderer of the `ood_surface` set: other shades, backgrounds, sizes and offsets.
ALT_COLORS: dict[str, tuple[int, int, int]] = {
    "red": (190, 60, 90),
    "green": (90, 190, 40),
    "blue": (60, 130, 230),
    "yellow": (240, 170, 40),
}
ALT_BACKGROUNDS = ((235, 235, 235), (250, 240, 215), (215, 230, 240))


@dataclass(frozen=True)
class Surface:
    """How a scene is drawn: palette, background, shape margin (size) and a pixel offset inside the cell."""

    alt_palette: bool = False
    background: tuple[int, int, int] = BACKGROUND
    margin: int = 4
    dx: int = 0
    dy: int = 0

    def color(self, name: str) -> tuple[int, int, int]:
        return (ALT_COLORS if self.alt_palette else COLORS)[name]


PLAIN = Surface()


def random_surface(rng: random.Random) -> Surface:
    """A shifted surface: always another palette or background, and often smaller shapes off-centre."""
    return Surface(
        alt_palette=rng.random() < 0.7,
        background=rng.choice(ALT_BACKGROUNDS),
        margin=rng.choice((3, 5, 6)),
        dx=rng.randint(-2, 2),
        dy=rng.randint(-2, 2),
    )


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
            1 for it in self.items if (color is None or it.color == color) and (shape is None or it.shape == shape)
        )

    def at(self, row: int, col: int) -> Item | None:
        for it in self.items:
            if it.row == row and it.col == col:
                return it
        return None


def random_scene(rng: random.Random, min_items: int = 3, max_items: int = 9) -> Scene:
    n = rng.randint(min_items, max_items)
    cells = rng.sample([(r, c) for r in range(GRID) for c in range(GRID)], n)
    items = tuple(Item(r, c, rng.choice(list(COLORS)), rng.choice(SHAPES)) for r, c in sorted(cells))
    return Scene(items)


def draw_shape(draw: ImageDraw.ImageDraw, x0: int, y0: int, size: int, shape: str, fill, m: int = 4) -> None:
    box = (x0 + m, y0 + m, x0 + size - m - 1, y0 + size - m - 1)
    if shape == "circle":
        draw.ellipse(box, fill=fill)
    elif shape == "square":
        draw.rectangle(box, fill=fill)
    elif shape == "triangle":
        draw.polygon([(x0 + size // 2, box[1]), (box[0], box[3]), (box[2], box[3])], fill=fill)
    else:  # pragma: no cover - guarded by SHAPES
        raise ValueError(f"unknown shape {shape!r}")


def render_scene(scene: Scene, surface: Surface = PLAIN) -> Image.Image:
    img = Image.new("RGB", (SIZE, SIZE), surface.background)
    draw = ImageDraw.Draw(img)
    for it in scene.items:
        draw_shape(
            draw,
            it.col * CELL + surface.dx,
            it.row * CELL + surface.dy,
            CELL,
            it.shape,
            surface.color(it.color),
            surface.margin,
        )
    return img


def render_bars(heights: dict[str, int], surface: Surface = PLAIN) -> Image.Image:
    """One bar per column, in colour order; heights are whole cells (1-4)."""
    img = Image.new("RGB", (SIZE, SIZE), surface.background)
    draw = ImageDraw.Draw(img)
    for col, (color, h) in enumerate(heights.items()):
        x0 = col * CELL + surface.margin + surface.dx
        draw.rectangle((x0, SIZE - h * CELL, x0 + CELL - 2 * surface.margin - 1, SIZE - 1), fill=surface.color(color))
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


DIE_COLORS: dict[str, tuple[tuple[int, int, int], tuple[int, int, int]]] = {  # face, pips
    "white": ((255, 255, 255), (0, 0, 0)),
    "ivory": ((250, 235, 190), (120, 20, 20)),
    "sky": ((190, 215, 250), (0, 0, 90)),
    "red": ((200, 40, 40), (255, 255, 255)),
}


def render_dice(dice: list[tuple[int, int, str]]) -> Image.Image:
    """Dice as (quadrant 0-3, face 1-6, colour): each 56 px square (a 2x2 block of merged patches)."""
    img = Image.new("RGB", (SIZE, SIZE), (235, 235, 235))
    draw = ImageDraw.Draw(img)
    half = SIZE // 2
    for quadrant, face, color in dice:
        x0, y0 = (quadrant % 2) * half, (quadrant // 2) * half
        body, pip = DIE_COLORS[color]
        draw.rectangle((x0 + 2, y0 + 2, x0 + half - 3, y0 + half - 3), fill=body, outline=(0, 0, 0), width=2)
        step = (half - 8) // 3
        for r, c in PIPS[face]:
            cx, cy = x0 + 4 + step * c + step // 2, y0 + 4 + step * r + step // 2
            draw.ellipse((cx - 4, cy - 4, cx + 4, cy + 4), fill=pip)
    return img
