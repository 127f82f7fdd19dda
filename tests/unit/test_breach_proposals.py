"""The proposed classification (BRE-5, BRE-3): from what the device reported and what the
inspector found; the privacy officer decides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from clinphoto.breaches import exposure as risk

AT = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


def _device(
    *,
    reported: bool = True,
    locked: bool | None = True,
    presumed: bool = False,
    holding_known: bool = True,
    gap: datetime | None = None,
) -> risk.Exposure:
    state = risk.DeviceState(
        reported, AT if reported else None, locked, None, presumed, holding_known, gap
    )
    return risk.Exposure(as_of=AT, patients={}, device=state)


def _verdicts(*words: str) -> risk.Assessment:
    return risk.Assessment(
        [risk.MediaVerdict(f"{i:032x}", w, 0, 0, False) for i, w in enumerate(words)], []
    )


def test_bre5_locked_device_with_nothing_on_it_may_not_be_a_breach() -> None:
    proposal, reasons = risk.propose("lost_device", _device(), _verdicts())
    assert proposal == risk.NOT_A_BREACH
    assert any("locked" in r for r in reasons)


def test_bre5_unknown_outbox_or_offline_gap_is_never_not_a_breach() -> None:
    assert risk.propose("lost_device", _device(holding_known=False), _verdicts())[0] == (
        risk.LOW_RISK
    )
    gap = _device(gap=AT - timedelta(hours=1))
    proposal, reasons = risk.propose("lost_device", gap, _verdicts())
    assert proposal == risk.LOW_RISK
    assert any("not known" in r for r in reasons)


def test_bre5_media_on_a_locked_device_is_low_risk_unless_identifiable_and_unlocked() -> None:
    locked = _device()
    locked.patient("a" * 32).add(risk.OPENED, "b" * 32)
    assert risk.propose("lost_device", locked, _verdicts("not_identifiable"))[0] == risk.LOW_RISK
    unlocked = _device(locked=False)
    unlocked.patient("a" * 32).add(risk.OPENED, "b" * 32)
    assert risk.propose("stolen_device", unlocked, _verdicts())[0] == risk.REAL_RISK
    presumed = _device(locked=False, presumed=True)
    presumed.patient("a" * 32).add(risk.CAPTURED, "b" * 32)
    assert risk.propose("lost_device", presumed, _verdicts())[0] == risk.LOW_RISK
    identifiable = _device(locked=True)
    identifiable.patient("a" * 32).add(risk.OPENED, "b" * 32)
    proposal, reasons = risk.propose("lost_device", identifiable, _verdicts("identifiable"))
    assert proposal == risk.REAL_RISK
    assert any("identifiable" in r for r in reasons)


def test_bre5_a_device_that_never_reported_is_not_known_to_be_locked() -> None:
    silent = _device(reported=False, locked=None, holding_known=False)
    silent.patient("a" * 32).add(risk.SHARED_TO_DEVICE, "b" * 32)
    proposal, reasons = risk.propose("lost_device", silent, _verdicts())
    assert proposal == risk.REAL_RISK
    assert "never reported" in reasons[0]


def test_bre2_misdirected_share_opened_or_not() -> None:
    opened = risk.Exposure(as_of=AT, patients={}, opened_before_recall=True)
    assert risk.propose("misdirected_share", opened, _verdicts())[0] == risk.REAL_RISK
    sealed = risk.Exposure(as_of=AT, patients={}, opened_before_recall=False)
    assert risk.propose("misdirected_share", sealed, _verdicts())[0] == risk.LOW_RISK
