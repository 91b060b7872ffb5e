"""The league: GRPO training of cooperative teams, generations, matches, ratings and storage."""
