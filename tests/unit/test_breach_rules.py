"""The breach-notification rules table (BRE-6) as shipped: every province and territory and
the federal rule, every party with who, when, source and whether confirmed; the jurisdictions
the research could not confirm say so."""

from __future__ import annotations

from clinphoto.breaches import notify

PROVINCES = {"ON", "QC", "BC", "AB", "SK", "MB", "NB", "NS", "PE", "NL", "YT", "NT", "NU", "CA"}
REQUIRED = {"yes", "if_real_risk", "not_confirmed", "no"}


def test_bre6_every_jurisdiction_and_party_has_a_rule_with_its_source() -> None:
    table = notify.rules()
    assert set(table["jurisdictions"]) == PROVINCES
    assert tuple(table["parties"]) == notify.PARTIES
    for code in PROVINCES:
        for party in notify.PARTIES:
            rule = notify.rule_for(code, party)
            assert rule["who"], (code, party)
            assert rule["deadline"], (code, party)
            assert rule["source"], (code, party)
            assert rule["required"] in REQUIRED, (code, party)
            assert isinstance(rule["confirmed"], bool)


def test_bre6_unconfirmed_rules_are_marked_not_confirmed() -> None:
    for code in ("YT", "NT", "NU"):
        for party in ("patients", "commissioner"):
            rule = notify.rule_for(code, party)
            assert rule["required"] == "not_confirmed"
            assert rule["confirmed"] is False
    # Verified in the research (standards.md B2, marked [V]): Ontario, Manitoba, New
    # Brunswick and the federal rule.
    for code in ("ON", "MB", "NB", "CA"):
        assert notify.rule_for(code, "patients")["confirmed"] is True
    assert notify.rule_for("SK", "commissioner")["required"] == "not_confirmed"
    assert notify.rule_for("BC", "commissioner")["required"] == "not_confirmed"


def test_bre6_an_unknown_jurisdiction_falls_back_to_the_federal_rule() -> None:
    assert notify.rule_for("ZZ", "patients") == notify.rule_for("CA", "patients")
