"""Notifications: units and their channels (Apprise URLs), routing by level, sending each message once.

One mechanism for every message (warnings, daily reports, case reminders
and overdue notices): build a ``Message`` with an idempotency key, find the
recipients with ``resolve_recipients``, ``deliver`` it; call ``sweep`` on
every flow run to release held messages, send digests and retry failures.
Warnings go first to whoever is on duty (``NotifyConfig.on_duty``), fall
back to the office when nobody else is reachable, and escalate along the
units file's ``escalation_chain`` while unacknowledged (``notify.escalation``).
See ``notify.units`` for the units file, ``notify.deliver`` and
``notify.ledger`` for how a send stays single, ``notify.secrets`` for
``${NAME}`` placeholders and redaction.
"""

from yuqing_core.notify.channels import AppriseSender, DeliveryUncertain, Sender, SendError, check_target, target_id
from yuqing_core.notify.deliver import (
    DeliveryFailed,
    DeliveryOutcome,
    DeliveryReport,
    Message,
    compose_digest,
    deliver,
    mark_interrupted,
    release_held,
    retry_failed,
    send_digests,
    sweep,
)
from yuqing_core.notify.escalation import Escalation, escalate_warnings, escalation_key
from yuqing_core.notify.ledger import STATUSES, Envelope, ledger_key, list_deliveries, resolve_uncertain
from yuqing_core.notify.schedule import Plan, plan_delivery
from yuqing_core.notify.secrets import MissingSecret, SecretResolver, redact, redact_text
from yuqing_core.notify.units import (
    DigestPolicy,
    DutyShift,
    NotifyConfig,
    QuietHours,
    SendingPolicy,
    UnitsFile,
    UnitsImportSummary,
    UnitSpec,
    import_units,
    list_units,
    load_units_file,
    parse_level,
    resolve_entries,
    resolve_recipients,
)
from yuqing_core.yamlfile import ConfigFileError

__all__ = [
    "STATUSES",
    "AppriseSender",
    "ConfigFileError",
    "DeliveryFailed",
    "DeliveryOutcome",
    "DeliveryReport",
    "DeliveryUncertain",
    "DigestPolicy",
    "DutyShift",
    "Envelope",
    "Escalation",
    "Message",
    "MissingSecret",
    "NotifyConfig",
    "Plan",
    "QuietHours",
    "SecretResolver",
    "SendError",
    "Sender",
    "SendingPolicy",
    "UnitSpec",
    "UnitsFile",
    "UnitsImportSummary",
    "check_target",
    "compose_digest",
    "deliver",
    "escalate_warnings",
    "escalation_key",
    "import_units",
    "ledger_key",
    "list_deliveries",
    "list_units",
    "load_units_file",
    "mark_interrupted",
    "parse_level",
    "plan_delivery",
    "redact",
    "redact_text",
    "release_held",
    "resolve_entries",
    "resolve_recipients",
    "resolve_uncertain",
    "retry_failed",
    "send_digests",
    "sweep",
    "target_id",
]
