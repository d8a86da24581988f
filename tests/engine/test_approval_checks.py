"""The approval card says what the fix reads from Azure before its first write: an approver
agrees to the checks as well as to the writes, in the card's language."""

from __future__ import annotations

from bot.incident_card import incident_card
from remediation.playbooks import PLAYBOOKS
from remediation.signals import parse_payload
from tests.bot_app.test_incident_flow import texts
from tests.engine.signals import backup_alert_payload, rp_limit_alert


def _card_text(engine) -> str:
    (incident,) = engine.incidents.open_incidents()
    return texts(incident_card(engine.notifier.latest[incident["card"]["message_id"]]))


def test_the_approval_binds_and_shows_the_checks_before_the_first_write(engine):
    engine.ingest(rp_limit_alert())
    (incident,) = engine.incidents.open_incidents()
    approval = engine.approvals.get(incident["approval_id"])
    assert approval["checks"] == PLAYBOOKS["cleanup-restore-points"].checked_before_first_write()
    assert set(approval["checks"]) >= {"locks-recorded-first", "no-backup-in-progress"}
    text = _card_text(engine)
    assert "Before its first write, it checks that:" in text
    assert "no backup job is in progress for the VM" in text
    assert "every lock on the restore point group is recorded before any is lifted" in text


def test_a_french_card_says_the_checks_in_french(engine):
    payload = backup_alert_payload()
    payload["data"]["essentials"]["description"] = (
        "La limite maximale de la collection de points de restauration a été atteinte."
    )
    engine.ingest(parse_payload(payload))
    text = _card_text(engine)
    assert "Avant sa première écriture, elle vérifie que :" in text, text
    assert "aucune tâche de sauvegarde n'est en cours pour la VM" in text
