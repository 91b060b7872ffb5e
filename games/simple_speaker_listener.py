"""simple_speaker_listener (mpe2 `simple_speaker_listener_v4`): two roles that must communicate.

Agents: `speaker_0` (role `speaker`) and `listener_0` (role `listener`); the roles have different spaces and
so different networks. The speaker sees the colour of the goal landmark (3) and says one of 3 words; the
listener sees its velocity, the landmarks and the word (11) and moves (Discrete(5): no-op, left, right, down,
up). Both get -(squared distance of the listener to the goal).
Team reward: mean over the two seats (they are equal).
The listener's landmarks are declared as `Targets`, so its network chooses a landmark and steers to it.
Options (mpe2 defaults): max_cycles=25, continuous_actions=False, dynamic_rescaling=True.
"""

from __future__ import annotations

from mpe2 import simple_speaker_listener_v4

from games.simple_spread import ARROWS
from games.spec import GameSpec, KeyMap, Targets

SPEC = GameSpec(
    name="simple_speaker_listener",
    summary="a speaker who sees the goal tells a listener who moves where to go (mpe2)",
    env_fn=simple_speaker_listener_v4.parallel_env,
    options={"max_cycles": 25, "continuous_actions": False, "dynamic_rescaling": True},
    key_maps={
        # The speaker has no silent action; with no key held it keeps saying word 0.
        "speaker": KeyMap(keys={"1": 0, "2": 1, "3": 2}, idle=0, help="keys 1/2/3 say word A/B/C; no key = word A"),
        "listener": ARROWS,
    },
    # The listener sees its velocity (0), then the 3 landmarks relative to itself (2..7), then the word.
    targets_fn=lambda **kwargs: {"listener": Targets(velocity=0, first=2, count=3)},
)
