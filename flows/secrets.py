"""A live run's SEC User-Agent from the Prefect Secret block `thesis-sec-user-agent`, where the
worker's environment has no THESIS_SEC_USER_AGENT. Never a flow parameter: those show in the UI."""

from __future__ import annotations

import os

SEC_USER_AGENT_BLOCK = "thesis-sec-user-agent"


def sec_user_agent(replay_from: str | None) -> str | None:
    """The block's value for a live run (no `replay_from`) whose environment lacks
    THESIS_SEC_USER_AGENT; None otherwise, or when there is no such block: the core then stops the
    run with its one line, "THESIS_SEC_USER_AGENT must be set"."""
    if replay_from or os.environ.get("THESIS_SEC_USER_AGENT", "").strip():
        return None
    from prefect.blocks.system import Secret
    from prefect.exceptions import ObjectNotFound

    try:
        secret = Secret.load(SEC_USER_AGENT_BLOCK)
    except ValueError as exc:  # how Block.load says "no block of that name"
        if isinstance(exc.__cause__, ObjectNotFound):
            return None
        raise
    return str(secret.get())
