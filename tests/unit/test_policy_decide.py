"""The access policy's decision function (AUD-2), proved on its inputs rather than sampled.

``clinphoto.policy.decide`` is pure, so each property below is checked two ways:

- by Hypothesis, over arbitrary subjects (any role or the instance, any ids, any sign-in
  strength), acts, resources (any kind, ids, relations, consent coverage, quarantine) and
  purposes (any text);
- exhaustively, over every combination of the facts the decision reads (role x act x
  named object or collection x exists x relation set x coverage x quarantine: 225,280
  cases), with the free-text fields fixed. Together they leave no case of the finite part
  of the input untried.

The example tests at the end name the concrete rules of the issue (the wristband lookup, the
unrelated clinician, break the glass, quarantine, consent-to-follow...).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinphoto.policy import (
    Act,
    Coverage,
    Decision,
    Effect,
    ObjectKind,
    Relation,
    Resource,
    Role,
    Subject,
    decide,
)

ROLES: tuple[Role | None, ...] = (*Role, None)  # None: the instance itself (CLI, jobs)
CONSENTED = frozenset({Act.CAPTURE, Act.VIEW, Act.SHARE, Act.RECEIVE, Act.ACKNOWLEDGE, Act.EXPORT})
OUTBOUND = frozenset({Act.SHARE, Act.EXPORT})
MEDIA_HANDLING = frozenset(
    {Act.VIEW, Act.CAPTURE, Act.SHARE, Act.RECEIVE, Act.ACKNOWLEDGE, Act.EXPORT}
)
ALL_RELATION_SETS = [
    frozenset(combo)
    for n in range(len(Relation) + 1)
    for combo in itertools.combinations(Relation, n)
]

# --- strategies ---------------------------------------------------------------------------

ids = st.text(max_size=40)
subjects = st.builds(
    Subject,
    user_id=ids,
    role=st.sampled_from(ROLES),
    device_id=ids,
    strength=st.sampled_from(["password+device", "server", "password", ""]) | st.text(max_size=20),
)
acts = st.sampled_from(list(Act))
relation_sets = st.frozensets(st.sampled_from(list(Relation)))
resources = st.builds(
    Resource,
    kind=st.sampled_from(list(ObjectKind)),
    id=ids,
    patient_ref=ids,
    exists=st.booleans(),
    relations=relation_sets,
    coverage=st.sampled_from(list(Coverage)),
    quarantined=st.booleans(),
)
purposes = st.sampled_from(["", "clinical_care", "teaching", "publication"]) | st.text(max_size=40)


Judge = Callable[[Subject, Act, Resource, str], Decision]


def _resource(
    r: Resource,
    *,
    exists: bool | None = None,
    relations: frozenset[Relation] | None = None,
    coverage: Coverage | None = None,
    quarantined: bool | None = None,
) -> Resource:
    """``r`` with some facts changed (``dataclasses.replace``, but fast enough to be called
    millions of times by the exhaustive test)."""
    return Resource(
        r.kind,
        r.id,
        r.patient_ref,
        r.exists if exists is None else exists,
        r.relations if relations is None else relations,
        r.coverage if coverage is None else coverage,
        r.quarantined if quarantined is None else quarantined,
    )


def _absent(r: Resource) -> Resource:
    return _resource(r, exists=False)


# --- the properties, each a plain check on one input --------------------------------------


def administrators_administer_only(
    s: Subject, a: Act, r: Resource, p: str, judge: Judge = decide
) -> None:
    if s.role is Role.ADMINISTRATOR and a is not Act.ADMINISTER:
        assert not judge(s, a, r, p).allowed


def privacy_officers_never_handle_media(
    s: Subject, a: Act, r: Resource, p: str, judge: Judge = decide
) -> None:
    if s.role is Role.PRIVACY_OFFICER and a in MEDIA_HANDLING:
        assert not judge(s, a, r, p).allowed


def absent_objects_are_not_found_unless_the_role_refuses(
    s: Subject, a: Act, r: Resource, p: str, judge: Judge = decide
) -> None:
    """An absent object is never allowed and answers "not found". About a named object
    (an id) that is the only answer, role refusals included: "not yours" is "not found".
    About a collection (a search, a queue: no id) the role gate may refuse with its reason
    first, and that refusal must then be the same whatever the object's facts."""
    gone = judge(s, a, _absent(r), p)
    assert not gone.allowed
    assert gone.effect in (Effect.DENY_HIDDEN, Effect.DENY)
    if r.id:
        assert gone.effect is Effect.DENY_HIDDEN
    if gone.effect is Effect.DENY:
        assert judge(s, a, r, p) == gone
        assert judge(s, a, _resource(r, exists=True), p) == gone
        assert judge(s, a, _resource(r, exists=True, relations=frozenset(Relation)), p) == gone


def consented_acts_need_covering_consent(
    s: Subject, a: Act, r: Resource, p: str, judge: Judge = decide
) -> None:
    if a in CONSENTED and r.coverage is not Coverage.COVERED:
        assert not judge(s, a, r, p).allowed


def quarantined_media_never_leaves(
    s: Subject, a: Act, r: Resource, p: str, judge: Judge = decide
) -> None:
    if a in OUTBOUND and r.quarantined:
        assert not judge(s, a, r, p).allowed


def allowed_decisions_name_their_ground(
    s: Subject, a: Act, r: Resource, p: str, judge: Judge = decide
) -> None:
    d = judge(s, a, r, p)
    if d.allowed:
        assert any(x.startswith(("role:", "relation:")) for x in d.reasons), d


def overrides_only_under_a_broken_glass_outside_the_team(
    s: Subject, a: Act, r: Resource, p: str, judge: Judge = decide
) -> None:
    if judge(s, a, r, p).effect is Effect.ALLOW_OVERRIDE:
        assert Relation.EMERGENCY_OVERRIDE in r.relations
        assert Relation.CARE_TEAM not in r.relations


def removing_a_relation_never_allows(
    s: Subject, a: Act, r: Resource, p: str, judge: Judge = decide
) -> None:
    if judge(s, a, r, p).allowed:
        return
    for rel in r.relations:
        fewer = _resource(r, relations=r.relations - {rel})
        assert not judge(s, a, fewer, p).allowed, (rel, judge(s, a, fewer, p))


def joining_the_care_team_never_denies(
    s: Subject, a: Act, r: Resource, p: str, judge: Judge = decide
) -> None:
    if judge(s, a, r, p).allowed:
        joined = _resource(r, relations=r.relations | {Relation.CARE_TEAM})
        assert judge(s, a, joined, p).allowed


def visible_refusals_say_why(
    s: Subject, a: Act, r: Resource, p: str, judge: Judge = decide
) -> None:
    d = judge(s, a, r, p)
    if d.effect is Effect.DENY:
        assert d.message.strip()
        assert d.reasons


def unrelated_callers_learn_nothing(
    s: Subject, a: Act, r: Resource, p: str, judge: Judge = decide
) -> None:
    """ "Not yours" answers like "not found": with no relation to an existing object, the
    answer is the same kind as for an absent one (or an allow open to the role)."""
    stranger = judge(s, a, _resource(r, exists=True, relations=frozenset()), p)
    gone = judge(s, a, _absent(r), p)
    if not stranger.allowed:
        assert stranger.effect is gone.effect
        if gone.effect is Effect.DENY:
            assert stranger == gone


def visible_refusals_only_to_those_entitled_to_know(
    s: Subject, a: Act, r: Resource, p: str, judge: Judge = decide
) -> None:
    """A refusal with a reason about a named object (quarantine, consent) goes only to a
    caller who would be allowed were the object in order: the reason reveals nothing to
    anyone else. Without an id, the role gate's own refusal is the one exception."""
    d = judge(s, a, r, p)
    if d.effect is not Effect.DENY:
        return
    if r.id or judge(s, a, _absent(r), p) != d:
        in_order = _resource(r, quarantined=False, coverage=Coverage.COVERED)
        assert judge(s, a, in_order, p).allowed


def decide_is_deterministic(s: Subject, a: Act, r: Resource, p: str, judge: Judge = decide) -> None:
    first = judge(s, a, r, p)
    assert judge(s, a, r, p) == first
    assert (
        judge(Subject(s.user_id, s.role, s.device_id, s.strength), a, _resource(r), str(p)) == first
    )
    assert isinstance(first, Decision)


PROPERTIES: list[Callable[[Subject, Act, Resource, str, Judge], None]] = [
    administrators_administer_only,
    privacy_officers_never_handle_media,
    absent_objects_are_not_found_unless_the_role_refuses,
    consented_acts_need_covering_consent,
    quarantined_media_never_leaves,
    allowed_decisions_name_their_ground,
    overrides_only_under_a_broken_glass_outside_the_team,
    removing_a_relation_never_allows,
    joining_the_care_team_never_denies,
    visible_refusals_say_why,
    unrelated_callers_learn_nothing,
    visible_refusals_only_to_those_entitled_to_know,
    decide_is_deterministic,
]


# --- Hypothesis: arbitrary inputs ---------------------------------------------------------

hypothesis_settings = settings(max_examples=150, deadline=None)


@hypothesis_settings
@given(subjects, acts, resources, purposes)
def test_administrators_are_allowed_nothing_but_administration(
    s: Subject, a: Act, r: Resource, p: str
) -> None:
    administrators_administer_only(s, a, r, p)


@hypothesis_settings
@given(subjects.map(lambda s: replace(s, role=Role.PRIVACY_OFFICER)), acts, resources, purposes)
def test_privacy_officers_never_view_capture_share_receive_acknowledge_or_export(
    s: Subject, a: Act, r: Resource, p: str
) -> None:
    privacy_officers_never_handle_media(s, a, r, p)


@hypothesis_settings
@given(subjects, acts, resources, purposes)
def test_absent_object_is_not_found_and_the_role_gate_ignores_the_object(
    s: Subject, a: Act, r: Resource, p: str
) -> None:
    absent_objects_are_not_found_unless_the_role_refuses(s, a, r, p)


@hypothesis_settings
@given(subjects, st.sampled_from(sorted(CONSENTED)), resources, purposes)
def test_consented_act_is_never_allowed_without_covering_consent(
    s: Subject, a: Act, r: Resource, p: str
) -> None:
    consented_acts_need_covering_consent(s, a, r, p)


@hypothesis_settings
@given(subjects, st.sampled_from(sorted(OUTBOUND)), resources, purposes)
def test_quarantined_media_is_never_shared_or_exported(
    s: Subject, a: Act, r: Resource, p: str
) -> None:
    quarantined_media_never_leaves(s, a, r, p)


@hypothesis_settings
@given(subjects, acts, resources, purposes)
def test_allowed_decision_names_the_role_or_relation_it_rests_on(
    s: Subject, a: Act, r: Resource, p: str
) -> None:
    allowed_decisions_name_their_ground(s, a, r, p)


@hypothesis_settings
@given(subjects, acts, resources, purposes)
def test_override_allows_only_with_a_broken_glass_and_no_care_team(
    s: Subject, a: Act, r: Resource, p: str
) -> None:
    overrides_only_under_a_broken_glass_outside_the_team(s, a, r, p)


@hypothesis_settings
@given(subjects, acts, resources, purposes)
def test_removing_a_relation_never_turns_a_refusal_into_an_allow(
    s: Subject, a: Act, r: Resource, p: str
) -> None:
    removing_a_relation_never_allows(s, a, r, p)


@hypothesis_settings
@given(subjects, acts, resources, purposes)
def test_joining_the_care_team_never_turns_an_allow_into_a_refusal(
    s: Subject, a: Act, r: Resource, p: str
) -> None:
    joining_the_care_team_never_denies(s, a, r, p)


@hypothesis_settings
@given(subjects, acts, resources, purposes)
def test_visible_refusal_always_tells_the_user_why(s: Subject, a: Act, r: Resource, p: str) -> None:
    visible_refusals_say_why(s, a, r, p)


@hypothesis_settings
@given(subjects, acts, resources, purposes)
def test_not_yours_answers_like_not_found(s: Subject, a: Act, r: Resource, p: str) -> None:
    unrelated_callers_learn_nothing(s, a, r, p)


@hypothesis_settings
@given(subjects, acts, resources, purposes)
def test_refusal_reasons_reach_only_callers_entitled_to_the_object(
    s: Subject, a: Act, r: Resource, p: str
) -> None:
    visible_refusals_only_to_those_entitled_to_know(s, a, r, p)


@hypothesis_settings
@given(subjects, acts, resources, purposes)
def test_decide_is_deterministic(s: Subject, a: Act, r: Resource, p: str) -> None:
    decide_is_deterministic(s, a, r, p)


# --- exhaustive: every combination of the facts decide reads ------------------------------


def _every_case(role: Role | None) -> Iterator[tuple[Subject, Act, Resource, str]]:
    subject = Subject(user_id="u" * 32, role=role, device_id="d" * 32)
    # An id or none: a named object, or a collection (a search, a queue).
    for act, named, exists, relations, coverage, quarantined in itertools.product(
        Act, (True, False), (True, False), ALL_RELATION_SETS, Coverage, (True, False)
    ):
        resource = Resource(
            kind=ObjectKind.MEDIA,
            id="m" * 32 if named else "",
            patient_ref="ref",
            exists=exists,
            relations=relations,
            coverage=coverage,
            quarantined=quarantined,
        )
        yield subject, act, resource, "clinical_care"


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "instance")
def test_every_property_holds_for_every_combination_of_act_and_facts(role: Role | None) -> None:
    # Every resource a property derives (absent, fewer relations...) is itself one of the
    # cases, so each decision is computed once and looked up after. Determinism is left to
    # Hypothesis: a cache would make it hold trivially here.
    judge = functools.cache(decide)
    cases = 0
    for s, a, r, p in _every_case(role):
        for prop in PROPERTIES:
            if prop is decide_is_deterministic:
                continue
            try:
                prop(s, a, r, p, judge)
            except AssertionError as exc:
                raise AssertionError(f"{prop.__name__} fails for {s}, {a}, {r}, {p!r}") from exc
        cases += 1
    assert cases == len(Act) * 2 * 2 * 2 ** len(Relation) * len(Coverage) * 2


# --- the concrete rules, by example -------------------------------------------------------

CLINICIAN = Subject(user_id="c" * 32, role=Role.CLINICIAN, device_id="d" * 32)
PRIVACY_OFFICER = Subject(user_id="p" * 32, role=Role.PRIVACY_OFFICER, device_id="d" * 32)
ADMINISTRATOR = Subject(user_id="a" * 32, role=Role.ADMINISTRATOR, device_id="d" * 32)
INSTANCE = Subject.system("custodian")


def _patient(*relations: Relation, exists: bool = True) -> Resource:
    return Resource(
        ObjectKind.PATIENT, "x" * 32, "ref", exists=exists, relations=frozenset(relations)
    )


def _photo(
    *relations: Relation, coverage: Coverage = Coverage.COVERED, quarantined: bool = False
) -> Resource:
    return Resource(
        ObjectKind.MEDIA,
        "m" * 32,
        "ref",
        relations=frozenset(relations),
        coverage=coverage,
        quarantined=quarantined,
    )


def test_wristband_lookup_is_open_to_any_clinician() -> None:
    d = decide(CLINICIAN, Act.FIND_BY_IDENTIFIER, _patient())
    assert d.effect is Effect.ALLOW
    assert "open-to-clinicians:find_by_identifier" in d.reasons


def test_unrelated_clinician_cannot_read_identifiers() -> None:
    d = decide(CLINICIAN, Act.READ_IDENTIFIERS, _patient())
    assert d.effect is Effect.DENY_HIDDEN
    assert d == Decision(Effect.DENY_HIDDEN, ("role:clinician", "relation:none"))


def test_care_team_clinician_reads_identifiers() -> None:
    d = decide(CLINICIAN, Act.READ_IDENTIFIERS, _patient(Relation.CARE_TEAM))
    assert d == Decision(Effect.ALLOW, ("role:clinician", "relation:care_team"))


def test_share_recipient_may_confirm_the_patient_but_not_capture() -> None:
    assert decide(CLINICIAN, Act.READ_IDENTIFIERS, _patient(Relation.SHARE_RECIPIENT)).allowed
    capture = decide(CLINICIAN, Act.CAPTURE, _photo(Relation.SHARE_RECIPIENT))
    assert capture.effect is Effect.DENY_HIDDEN


@pytest.mark.parametrize("act", [Act.RECORD_CONSENT, Act.WITHDRAW_CONSENT])
def test_unrelated_clinician_cannot_record_or_withdraw_consent(act: Act) -> None:
    assert decide(CLINICIAN, act, _patient()).effect is Effect.DENY_HIDDEN
    assert decide(CLINICIAN, act, _patient(Relation.CARE_TEAM)).allowed


@pytest.mark.parametrize("act", [Act.RECORD_CONSENT, Act.WITHDRAW_CONSENT, Act.READ_CONSENT])
def test_privacy_officer_documents_consent_without_a_care_relationship(act: Act) -> None:
    d = decide(PRIVACY_OFFICER, act, _patient())
    assert d.effect is Effect.ALLOW
    assert "privacy-officer-review" in d.reasons


def test_emergency_override_reads_identifiers_as_an_override() -> None:
    d = decide(CLINICIAN, Act.READ_IDENTIFIERS, _patient(Relation.EMERGENCY_OVERRIDE))
    assert d.effect is Effect.ALLOW_OVERRIDE
    assert "relation:emergency_override" in d.reasons


def test_emergency_override_cannot_add_care_team_members() -> None:
    d = decide(CLINICIAN, Act.ADD_CARE_TEAM_MEMBER, _patient(Relation.EMERGENCY_OVERRIDE))
    assert not d.allowed


def test_care_team_member_under_override_is_not_counted_as_an_override() -> None:
    both = _patient(Relation.CARE_TEAM, Relation.EMERGENCY_OVERRIDE)
    assert decide(CLINICIAN, Act.READ_IDENTIFIERS, both).effect is Effect.ALLOW


def test_expired_consent_to_follow_refuses_capture_and_says_what_to_do() -> None:
    d = decide(
        CLINICIAN,
        Act.CAPTURE,
        _photo(Relation.CARE_TEAM, coverage=Coverage.TO_FOLLOW_EXPIRED),
        "clinical_care",
    )
    assert d.effect is Effect.DENY
    assert "consent:to_follow_expired" in d.reasons
    assert "deadline" in d.message
    assert "record" in d.message


def test_withdrawn_consent_hides_the_photo_from_its_author() -> None:
    d = decide(CLINICIAN, Act.VIEW, _photo(Relation.AUTHOR, coverage=Coverage.WITHDRAWN))
    assert d.effect is Effect.DENY_HIDDEN
    assert "consent:withdrawn" in d.reasons


def test_quarantined_photo_cannot_be_shared_even_by_its_author_under_consent() -> None:
    d = decide(CLINICIAN, Act.SHARE, _photo(Relation.AUTHOR, quarantined=True), "clinical_care")
    assert d.effect is Effect.DENY
    assert "media:quarantined" in d.reasons
    assert "quarantined" in d.message


def test_author_still_sees_a_quarantined_photo() -> None:
    assert decide(CLINICIAN, Act.VIEW, _photo(Relation.AUTHOR, quarantined=True)).allowed


def test_care_team_exports_but_a_share_recipient_does_not() -> None:
    assert decide(CLINICIAN, Act.EXPORT, _photo(Relation.CARE_TEAM)).allowed
    assert not decide(CLINICIAN, Act.EXPORT, _photo(Relation.SHARE_RECIPIENT)).allowed


def test_only_the_consent_obtainer_attaches_the_signature() -> None:
    assert decide(CLINICIAN, Act.ATTACH_SIGNATURE, _patient(Relation.CONSENT_OBTAINER)).allowed
    assert not decide(CLINICIAN, Act.ATTACH_SIGNATURE, _patient(Relation.CARE_TEAM)).allowed


def test_administrator_cannot_search_patients_and_is_told_why() -> None:
    search = Resource(ObjectKind.PATIENT)  # a collection: what patients.find asks about
    d = decide(ADMINISTRATOR, Act.FIND_BY_IDENTIFIER, search)
    assert d.effect is Effect.DENY
    assert "administrator" in d.message


def test_role_refusal_about_a_named_patient_answers_like_not_found() -> None:
    named = decide(ADMINISTRATOR, Act.READ_IDENTIFIERS, _patient())
    assert named.effect is Effect.DENY_HIDDEN
    assert (
        named.effect is decide(ADMINISTRATOR, Act.READ_IDENTIFIERS, _patient(exists=False)).effect
    )


def test_only_the_custodian_inspects() -> None:
    assert decide(INSTANCE, Act.INSPECT, _photo()).allowed
    for user in (CLINICIAN, PRIVACY_OFFICER, ADMINISTRATOR):
        assert not decide(user, Act.INSPECT, _photo(Relation.AUTHOR)).allowed


def test_the_instance_itself_sees_no_photos() -> None:
    d = decide(INSTANCE, Act.VIEW, _photo(Relation.AUTHOR))
    assert d.effect is Effect.DENY_HIDDEN
    assert "act-not-for-the-instance" in d.reasons


def test_clinicians_do_not_review_the_audit_trail() -> None:
    for act in (Act.REVIEW, Act.AUDIT_EXPORT):
        assert not decide(CLINICIAN, act, _patient(Relation.CARE_TEAM)).allowed
        assert decide(PRIVACY_OFFICER, act, _patient()).allowed


def test_covered_purpose_is_recorded_among_the_reasons() -> None:
    d = decide(CLINICIAN, Act.VIEW, _photo(Relation.AUTHOR), "teaching")
    assert d.reasons[-1] == "consent:covered:teaching"
