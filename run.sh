#!/usr/bin/env bash
# One entry point for a newcomer:  ./run.sh demo  (set up, then run the main job)
#                                  ./run.sh test  (set up, then run the tests)
# Setup is idempotent: a .venv beside this file, torch first (the CPU build; see README), then the project.
set -euo pipefail
cd "$(dirname "$0")"

setup() {
  if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
  fi
  # shellcheck disable=SC1091
  . .venv/bin/activate
  # Install torch on its own first so the project's range (<2.14) is already met and pip pulls no CUDA wheels.
  python -c "import torch" 2>/dev/null || pip install --quiet "torch==2.13.0"
  pip install --quiet -e ".[dev,ray]"
}

case "${1:-}" in
  demo)
    setup
    league train --game simple_spread --teams 2 --generations 2 --steps-per-generation 1500000
    league generations
    league ratings
    league partners default/beta/g2 --seeds 32
    ;;
  test)
    setup
    shift
    export SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy
    set +e
    python -m pytest -q "$@"
    rc=$?
    set -e
    # pytest exits 5 when it collected no tests: that is a failure of the suite, say so plainly.
    if [ "$rc" -eq 5 ]; then echo "no tests were collected" >&2; exit 1; fi
    exit "$rc"
    ;;
  *)
    echo "usage: ./run.sh demo|test [args...]" >&2
    exit 2
    ;;
esac
