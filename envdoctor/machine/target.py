"""The one Context builder every command uses: this machine (and, with `record`, a recording of
what the probes read on it), or a recorded fixture machine replayed instead of it. A command that
asks about a replayed machine must see only that machine: its files, its environment."""
from __future__ import annotations

from typing import Mapping, Optional

from envdoctor.machine.context import Context, live_context
from envdoctor.machine.replay import recording_context, replay_context


def machine_context(options: Optional[Mapping[str, object]] = None, replay: Optional[str] = None,
                    record: bool = False) -> Context:
    if replay:
        return replay_context(replay, options)
    ctx = live_context(options)
    return recording_context(ctx) if record else ctx
