"""knights_archers_zombies (PettingZoo butterfly `knights_archers_zombies_v11`): hold off zombies together.

Agents: `archer_0, archer_1` (role `archer`) and `knight_0, knight_1` (role `knight`), each its own network.
Observation: the vector form, a (max_zombies + archers + knights + swords + arrows + 1, 5) table of the entities
(flattened to 135 for training). Actions: Discrete(6) = forward, backward, turn counter-clockwise, turn
clockwise, attack (arrow / sword swing), no-op. Reward +1 per zombie killed. Agents die when a zombie reaches
them, so seats empty out during an episode; the episode ends when all are dead, a zombie crosses, or at
max_cycles.
Team reward: sum over seats (zombies the team killed in the step).
The zombie rows of the vector observation are declared as `Entities`, so each role's network picks a zombie and
acts on it (`league.policy.ChooseAndAct`).
Options (PettingZoo defaults): spawn_delay=20, num_archers=2, num_knights=2, max_zombies=10, max_arrows=10,
killable_knights=True, killable_archers=True, line_death=False, max_cycles=900, obs_method="vector".

`games/kaz_core.py` `KAZBatch` plays B games at once in numpy for the vector observations ("vector" and
"vector-masked", any other options); "image" and "vector-sequence" run on the generic vector runner.
`tests/test_kaz_core.py` proves it equal to PettingZoo over whole episodes (observations, rewards, alive masks,
done). Two things the env does that a reader might not expect, and the core copies: an agent's kills are paid
one step late except for the first living agent's (the AEC cycle hands out rewards), and the zombie spawn timer
is not reset by `reset`, so an env's episodes depend on what it played before (see the core's docstring).

Version history: v1 (this project) wraps PettingZoo 1.27 `knights_archers_zombies_v11`.
"""

from __future__ import annotations

from typing import Any

from pettingzoo.butterfly import knights_archers_zombies_v11
from pettingzoo.butterfly.knights_archers_zombies.src import constants as C

from games import scripted, styles
from games.kaz_core import make_batch
from games.spec import Entities, GameSpec, KeyMap, sum_team_reward

# Rotate-and-move controls, as in PettingZoo's own manual control for this game.
KAZ_KEYS = KeyMap(
    keys={"space": 4, "up": 0, "down": 1, "left": 2, "right": 3},
    idle=5,
    help="up/down move forward/back, left/right turn, space attacks; no key = stand still",
)


def agent_positions(env: Any) -> dict[str, tuple[float, float]]:
    """Where knights_archers_zombies last drew each live agent: the centre of its sprite, in pixels."""
    return {name: sprite.rect.center for name, sprite in env.unwrapped.agent_map.items() if name in env.agents}


def zombie_entities(**kwargs: Any) -> dict[str, Entities]:
    """The vector observation's zombie rows (after self, archers, knights, maces, arrows) are the targets of
    every role; other observation forms lay the table out differently and declare none."""
    if kwargs["obs_method"] != "vector":
        return {}
    first = 1 + kwargs["num_archers"] + 2 * kwargs["num_knights"] + kwargs["max_arrows"]
    table = Entities(own=0, first=first, count=kwargs["max_zombies"], width=5,
                     aspect=C.SCREEN_HEIGHT / C.SCREEN_WIDTH)
    return {role: table for role, count in (("archer", kwargs["num_archers"]), ("knight", kwargs["num_knights"]))
            if count}


SPEC = GameSpec(
    name="knights_archers_zombies",
    summary="archers and knights keep zombies from crossing the screen; agents can die (PettingZoo butterfly)",
    env_fn=knights_archers_zombies_v11.parallel_env,
    options={
        "spawn_delay": 20,
        "num_archers": 2,
        "num_knights": 2,
        "max_zombies": 10,
        "max_arrows": 10,
        "killable_knights": True,
        "killable_archers": True,
        "line_death": False,
        "max_cycles": 900,
        "obs_method": "vector",
    },
    option_limits={"num_archers": (0, 20), "num_knights": (0, 20), "max_zombies": (0, 100), "max_arrows": (0, 100)},
    key_maps={"archer": KAZ_KEYS, "knight": KAZ_KEYS},
    team_reward_fn=sum_team_reward,
    batch_core=make_batch,
    targets_fn=zombie_entities,
    scripted=scripted.knights_archers_zombies,
    stubborn=styles.StubbornKAZ,
    # Up to 900-step episodes: groups branch every 64 steps, so siblings are compared from one mid-episode
    # state; 64 groups of 8 (a 32,768-step update: with 32 groups greedy play swung between scores 0.3 and 0.9
    # from one evaluation to the next), gamma 0.98 (about a 50-step horizon, within a segment), lr 0.01 halving
    # every 150 updates. Without branching and the angle inputs of the choose-and-act team, greedy play stayed
    # at random level whatever the rate and discount; branching alone doubled the sampled return but greedy
    # play stayed near random (3.7 after 4 min). Crediting a segment's playing rows with the mean return still
    # to come (gamma 0.98, 0.995 or 1) changed nothing measurable.
    preset={"groups": 64, "group_size": 8, "minibatch_size": 8192, "branch_every": 64, "gamma": 0.98, "lr": 0.01,
            "lr_half_life": 150},
    agent_positions=agent_positions,
)
