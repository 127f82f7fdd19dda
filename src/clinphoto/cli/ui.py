"""What the command-line interfaces share: a progress bar and region parsing.

Kept to Rich, Typer and the imaging library's plain data so that the file tools
(``cli.deid``) and the device commands, which start without the server stack, can use it;
Rich's progress bar is imported when one is made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.console import Console

from clinphoto.imaging.regions import Box

if TYPE_CHECKING:
    from rich.progress import Progress

err = Console(stderr=True)


def progress(count: int) -> Progress:
    """A progress bar on stderr for runs over several files; silent for one, or when piped."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=count < 2 or not err.is_terminal,
    )


def parse_box(text: str) -> Box:
    """``x,y,w,h`` in pixels, as --box takes it; a clear error otherwise (exit 2)."""
    try:
        x, y, w, h = (int(v) for v in text.split(","))
    except ValueError:
        err.print(f"[red]error:[/] --box {text!r}: expected x,y,w,h in pixels, e.g. 120,80,200,200")
        raise typer.Exit(2) from None
    if w <= 0 or h <= 0 or x < 0 or y < 0:
        err.print(f"[red]error:[/] --box {text!r}: width and height must be positive")
        raise typer.Exit(2)
    return Box(x, y, w, h)
