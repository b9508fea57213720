"""A live run's SEC User-Agent from the Prefect Secret block `thesis-sec-user-agent`, where the
settings (THESIS_SEC_USER_AGENT) have none. Never a flow parameter: those show in the UI."""

from __future__ import annotations

from pipeline.runtime.settings import Settings

SEC_USER_AGENT_BLOCK = "thesis-sec-user-agent"


def with_secret_user_agent(settings: Settings) -> Settings:
    """`settings`, with the block's value where they carry no User-Agent and the block exists;
    without either, the core stops a live run with its one line, "THESIS_SEC_USER_AGENT must be set"."""
    if settings.user_agent:
        return settings
    from prefect.blocks.system import Secret
    from prefect.exceptions import ObjectNotFound

    try:
        secret = Secret.load(SEC_USER_AGENT_BLOCK)
    except ValueError as exc:  # how Block.load says "no block of that name"
        if isinstance(exc.__cause__, ObjectNotFound):
            return settings
        raise
    # Prefect types load() as maybe-async; called outside an event loop it returns the block itself.
    return settings.replace(sec_user_agent=str(secret.get()))  # type: ignore[union-attr]
