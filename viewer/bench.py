"""`league bench viewer`: frames per second of the viewer's drawing loop, as a ratio to the game's own fps."""

from __future__ import annotations

import time
from typing import Any

import games
from league.evaluate import random_policy
from league.matches import duplicate_match
from viewer.app import MatchView
from viewer.render import offscreen_viewer


def bench_viewer(frames: int = 2000) -> dict[str, Any]:
    """Frames/s of the viewer's side-by-side drawing (HUD, both panels, timeline) for simple_spread, headless,
    cycling through a pre-simulated duplicate match. Reference: the game's own fps."""
    game = "simple_spread"
    info = games.get(game).info()
    result = duplicate_match(game, {}, games.get(game).scripted, random_policy(info), [11, 12])
    stored = result.episodes
    view = MatchView(0, "duplicate", ("scripted", "random"), (None, None), [(stored[0], stored[2]),
                                                                            (stored[1], stored[3])])
    viewer = offscreen_viewer(view)
    viewer.seek(viewer.length - 1)
    viewer.update(0.0)  # simulate every frame first: only drawing is timed
    start = time.perf_counter()
    for i in range(frames):
        viewer.seek(i % viewer.length)
        viewer.draw()
    fps = frames / (time.perf_counter() - start)
    return {"game": game, "frames": frames, "fps": fps, "game_fps": viewer.fps, "ratio": fps / viewer.fps}
