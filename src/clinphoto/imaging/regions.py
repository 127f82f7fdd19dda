"""Regions of an image that a detector found, in pixels of the displayed image.

Every detector in :mod:`clinphoto.imaging` returns :class:`Region` values, so inspection,
redaction and the JSON the CLI prints all speak of the same boxes. Coordinates are those of
the image as a person sees it: after the EXIF orientation has been applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Box", "Region", "RegionKind"]

RegionKind = Literal["face", "text", "manual"]


@dataclass(frozen=True, slots=True)
class Box:
    """An axis-aligned rectangle: left, top, width and height in pixels."""

    x: int
    y: int
    w: int
    h: int

    def __post_init__(self) -> None:
        if self.w <= 0 or self.h <= 0:
            raise ValueError(f"a box needs a positive width and height, not {self.w}x{self.h}")

    def as_list(self) -> list[int]:
        return [self.x, self.y, self.w, self.h]

    def clipped(self, width: int, height: int) -> Box | None:
        """This box cut to an image of ``width`` x ``height``; None when nothing is left."""
        left, top = max(self.x, 0), max(self.y, 0)
        right, bottom = min(self.x + self.w, width), min(self.y + self.h, height)
        if right <= left or bottom <= top:
            return None
        return Box(left, top, right - left, bottom - top)

    def iou(self, other: Box) -> float:
        """Intersection over union, 0.0 to 1.0."""
        left, top = max(self.x, other.x), max(self.y, other.y)
        right = min(self.x + self.w, other.x + other.w)
        bottom = min(self.y + self.h, other.y + other.h)
        inter = max(0, right - left) * max(0, bottom - top)
        union = self.w * self.h + other.w * other.h - inter
        return inter / union if union else 0.0


@dataclass(frozen=True, slots=True)
class Region:
    """One finding: where, what kind, how sure (0.0 to 1.0), and any text read there."""

    box: Box
    kind: RegionKind
    score: float
    text: str = ""
