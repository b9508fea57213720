"""`thesis alerts`: Prefect automations that notify when a run of the `daily` deployment fails,
crashes, or has not finished within a bound after it was due.

Alerting is the orchestrator's configuration, not code in the pipeline: the server's triggers
watch the flow runs' events and its actions send through a notification block. The block is a
Custom Webhook (created here from a URL) or any notification block already saved (Slack, email,
...). Everything is created or updated by name, so running the command again changes nothing
but what it is given.

What a failure says is the run's state message, which the flows make "step <step>: <reason>"
(flows/failure.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from pipeline.runtime.errors import SettingsError

DEPLOYMENT = "daily/daily"  # prefect.yaml's `daily`, as `prefect deploy` registers it (flow/deployment)
WEBHOOK_BLOCK = "thesis-alerts"
FAILED = "thesis: {deployment} failed"
LATE = "thesis: {deployment} late"
# Failed-type states end a run for good: Failed (the flow raised), Crashed (its process died or was
# killed), TimedOut (a flow timeout).
FAILURES = {"prefect.flow-run.Failed", "prefect.flow-run.Crashed", "prefect.flow-run.TimedOut"}
# A run is due from the first of these: Prefect marks a scheduled run Late when nobody has started
# it 15 s after its scheduled time (PREFECT_SERVER_SERVICES_LATE_RUNS_AFTER_SECONDS); a run picked
# up on time goes Pending or straight to Running.
DUE = {"prefect.flow-run.Late", "prefect.flow-run.Pending", "prefect.flow-run.Running"}
# The states that end a run; a failure among them has its own alert.
ENDED = FAILURES | {"prefect.flow-run.Completed", "prefect.flow-run.Cancelled"}
RUN = "{{ flow.name }}/{{ deployment.name }} run {{ flow_run.name }} ({{ flow_run.id }})"


@dataclass(frozen=True)
class Alerts:
    """What `set_up` made: the notification block, the deployment and the automations by name."""

    block: str
    deployment: str
    automations: dict[str, UUID]
    late_after: dt.timedelta

    def __str__(self) -> str:
        return (
            f"Alerts for {self.deployment} go to the notification block {self.block}: "
            f"a failed or crashed run, and a run not finished {duration(self.late_after)} after it was due "
            f"(automations {', '.join(repr(name) for name in self.automations)})."
        )


def duration(span: dt.timedelta) -> str:
    """`span` in whole minutes where it is some, else in seconds: "60 minutes", "10 s"."""
    seconds = span.total_seconds()
    return f"{seconds / 60:g} minutes" if seconds >= 60 and seconds % 60 == 0 else f"{seconds:g} s"


def webhook_block(url: str, name: str = WEBHOOK_BLOCK) -> UUID:
    """The Custom Webhook notification block `name` posting to `url`, created or replaced: each
    message is JSON with `subject` and `body`, and `text` (both) for Slack-style receivers."""
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    block = CustomWebhookNotificationBlock(
        name=name,
        url=url,
        json_data={"subject": "{{subject}}", "body": "{{body}}", "text": "{{subject}}\n{{body}}"},
        # Prefect's defaults, given: the type checker does not see a default passed to Field positionally.
        headers=None,
        cookies=None,
    )
    # Prefect types save() as maybe-async; called outside an event loop it returns the id.
    return block.save(name, overwrite=True)  # type: ignore[return-value]


def saved_block(reference: str) -> UUID:
    """The id of the saved notification block `reference` (block-type-slug/name, as in
    `prefect block ls`), refused unless it exists and can notify."""
    from prefect.blocks.core import Block
    from prefect.blocks.notifications import NotificationBlock

    try:
        block = Block.load(reference)
    except ValueError as exc:  # no such block, or a reference that is not type/name
        raise SettingsError(f"--block {reference}: {exc}") from None
    if not isinstance(block, NotificationBlock):
        raise SettingsError(f"--block {reference} is not a notification block (slack-webhook, sendgrid-email, ...)")
    return block._block_document_id  # type: ignore[union-attr, return-value]


def registered(deployment: str = DEPLOYMENT) -> UUID:
    """The id of `deployment` (flow/deployment) on the configured Prefect server, refused if absent."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            return client.read_deployment_by_name(deployment).id
        except ObjectNotFound:
            raise SettingsError(
                f"the Prefect server at {client.api_url} has no deployment {deployment}: run "
                "`prefect deploy --all` from the project first"
            ) from None


def set_up(block_id: UUID, block: str, late_after: dt.timedelta, deployment: str = DEPLOYMENT) -> Alerts:
    """The two automations for `deployment`, each sending through the block `block_id`: one per
    failed or crashed run, and one per run not ended `late_after` after it was due."""
    from prefect.client.orchestration import get_client
    from prefect.events.actions import SendNotification
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture

    with get_client(sync_client=True) as client:
        runs: dict[str, Any] = {
            "match": {"prefect.resource.id": "prefect.flow-run.*"},
            "match_related": {"prefect.resource.id": f"prefect.deployment.{registered(deployment)}"},
            "for_each": {"prefect.resource.id"},  # each flow run on its own
        }
        bound = duration(late_after)
        automations = [
            AutomationCore(
                name=FAILED.format(deployment=deployment),
                description=f"A run of {deployment} failed or crashed: one message per run.",
                trigger=EventTrigger(**runs, expect=FAILURES, posture=Posture.Reactive, threshold=1),
                actions=[
                    SendNotification(
                        block_document_id=block_id,
                        subject=f"{RUN}: {{{{ flow_run.state.name }}}}",
                        body=f"{RUN} ended {{{{ flow_run.state.name }}}}: {{{{ flow_run.state.message }}}}",
                    )
                ],
            ),
            AutomationCore(
                name=LATE.format(deployment=deployment),
                description=f"A run of {deployment} has not ended {bound} after it was due.",
                trigger=EventTrigger(
                    **runs, after=DUE, expect=ENDED, posture=Posture.Proactive, threshold=1, within=late_after
                ),
                actions=[
                    SendNotification(
                        block_document_id=block_id,
                        subject=f"{RUN}: not finished after {bound}",
                        body=(
                            f"{RUN} was due at {{{{ flow_run.expected_start_time }}}} and has not ended "
                            f"{bound} later; it is {{{{ flow_run.state.name }}}}."
                        ),
                    )
                ],
            ),
        ]
        made = {}
        for automation in automations:
            found = client.read_automations_by_name(automation.name)
            if found:
                client.update_automation(found[0].id, automation)
                for extra in found[1:]:  # one automation per name: a copy would notify twice
                    client.delete_automation(extra.id)
                made[automation.name] = found[0].id
            else:
                made[automation.name] = client.create_automation(automation)
    return Alerts(block, deployment, made, late_after)
