"""Headless export of a stored match with the viewer's own drawing: GIF or MP4 of the episodes, or a PNG of
the last frame. No window is opened."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pygame

from viewer.app import MatchView, ReplayViewer


def offscreen_viewer(view: MatchView, episode: int = 0) -> ReplayViewer:
    """A viewer drawing into a plain Surface (no display needed)."""
    pygame.font.init()
    probe = ReplayViewer.window_size(view)
    return ReplayViewer(view, screen=pygame.Surface(probe), episode=episode)


def render_match(view: MatchView, out: str | Path, episodes: list[int] | None = None) -> tuple[Path, int]:
    """Writes `out` (.gif, .mp4 or .png); returns the path and the number of frames written."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".gif", ".mp4", ".png"):
        raise ValueError(f"--out must end in .gif, .mp4 or .png, got {out.name!r}")
    out.parent.mkdir(parents=True, exist_ok=True)  # a folder that cannot be made is one OSError line
    viewer = offscreen_viewer(view, (episodes or [0])[0])
    frames: list[np.ndarray] = []
    for k in episodes if episodes is not None else range(len(view.pairs)):
        viewer.select_episode(k)
        ticks = [viewer.length - 1] if suffix == ".png" else range(viewer.length)
        for t in ticks:
            viewer.seek(t)
            viewer.paused = True
            viewer.update(0.0)
            viewer.draw()
            frames.append(pygame.surfarray.array3d(viewer.screen).swapaxes(0, 1).copy())
        if suffix == ".png":
            break
    mismatch = [f"episode {e + 1}" for e, _ in sorted(viewer.mismatches)]
    if mismatch:
        raise ValueError(f"replay mismatch in {', '.join(mismatch)}: the stored match does not re-simulate")
    out.parent.mkdir(parents=True, exist_ok=True)
    import imageio.v2 as imageio

    if suffix == ".png":
        imageio.imwrite(out, frames[-1])
    elif suffix == ".gif":
        imageio.mimsave(out, frames, duration=1000.0 / viewer.fps, loop=0)
    else:
        imageio.mimsave(out, frames, fps=viewer.fps, macro_block_size=1)
    return out, len(frames)
