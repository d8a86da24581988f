"""The catalogue and the playbooks cannot drift: every precondition the catalogue names for an
entry is checked by a step of the entry's playbook before that playbook's first write."""

from remediation.catalogue import default_catalogue
from remediation.playbooks import PLAYBOOKS
from remediation.playbooks.preconditions import PRECONDITIONS


def test_every_catalogued_precondition_is_checked_before_the_first_write():
    unchecked = {}
    for entry in default_catalogue():
        automation = entry.automation
        if automation.playbook is None:
            continue
        checked = PLAYBOOKS[automation.playbook].checked_before_first_write()
        missing = set(automation.preconditions) - set(checked)
        if missing:
            unchecked[entry.id] = sorted(missing)
    assert unchecked == {}


def test_every_precondition_has_words_and_every_check_is_catalogued():
    named = {p for entry in default_catalogue() for p in entry.automation.preconditions}
    checked = {c for playbook in PLAYBOOKS.values() for s in playbook.steps for c in s.checks}
    assert named <= set(PRECONDITIONS)
    assert checked <= set(PRECONDITIONS)
    assert all({"en", "fr"} <= set(words) for words in PRECONDITIONS.values())
