"""The breach register's audit entries read as sentences in "who saw my photos", in English
and in French (BEY-6, RET-4; BRE-1 to BRE-6), never as action codes."""

from __future__ import annotations

import pytest

from clinphoto.audit.service import Action
from clinphoto.disclosures import words_fr
from clinphoto.disclosures.service import _WORDS

BREACH_ACTIONS = [
    Action.SHARE_RECALL,
    Action.SHARE_DELETE_CONFIRM,
    Action.BREACH_REPORT,
    Action.WIPE_CONFIRM,
    Action.BREACH_READ,
    Action.BREACH_LIST,
    Action.BREACH_STEP,
    Action.BREACH_NOTIFY,
    Action.BREACH_LETTER,
    Action.STATUS_KEY_REGISTER,
]


@pytest.mark.parametrize("action", BREACH_ACTIONS, ids=lambda a: a.value)
def test_bre1_each_breach_entry_has_a_sentence_in_both_languages(action: Action) -> None:
    english, french = _WORDS[action], words_fr.WORDS[action]
    assert english[0] == french[0]  # about the same thing
    for done, tried in (english[1:], french[1:]):
        assert done
        assert tried
        assert done != tried
        assert action.value not in done
        assert "." not in done  # a sentence, not a code like share.recall
    assert english[1] != french[1]


def test_bre4_the_lost_device_and_its_wipe_are_said_plainly() -> None:
    assert "lost or stolen" in _WORDS[Action.BREACH_REPORT][1]
    assert "wiped" in _WORDS[Action.WIPE_CONFIRM][1]
    assert "perdu ou volé" in words_fr.WORDS[Action.BREACH_REPORT][1]
    assert "effacé" in words_fr.WORDS[Action.WIPE_CONFIRM][1]
