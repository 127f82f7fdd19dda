"""The privacy office in Chromium (issue 10 §4): a privacy officer enrolled on a phone walks the
review queue, changes a retention rule with a reason (RET-1), places and releases a hold
(RET-3), opens the certificate of a photo destroyed by a sweep with a moved clock (RET-5),
opens "who saw my photos" (BEY-6) and what was shared before a withdrawal (CON-7), and the
breach register (BRE-1). Every screen passes axe-core in English and French and fits a phone.

The server is the test's own: the sweep destroys whatever has expired, and a shared server's
other photos must not meet a clock moved years ahead.

Two clinicians with CLI devices make the work: A registers a Quebec adult, records consent
for care and teaching, captures a photo and shares it with B for teaching, then the patient
withdraws teaching; B breaks the glass on A's patient.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Browser, Locator, Page, Route, expect

from tests.browser.conftest import Server, run_server
from tests.browser.phone import PHONE_WIDTH, assert_accessible, enroll, new_phone, switch_language
from tests.browser.test_share import _approve, _cli_device, _phone

pytestmark = pytest.mark.slow

RULES = {
    r["jurisdiction"]: r
    for r in json.loads(
        resources.files("clinphoto.records").joinpath("retention_rules.json").read_text("utf-8")
    )["rules"]
}
OFFICER = "p.officer@chu.example"

# The retention sweep run by the instance itself, with its clock moved to a given day: what
# the server's scheduled sweep does on that day (tests/functional/test_retention.py does the
# same in process). Prints the certificates' numbers.
SWEEP = """
import sys
from datetime import date
from clinphoto.core.config import Settings
from clinphoto.instance.runtime import open_instance
from clinphoto.records import sweep as sweeper
from clinphoto.records.clock import FixedClock
inst = open_instance(Settings())
try:
    report = sweeper.sweep(inst.unit_of_work, keys=inst.keys.fields, blobs=inst.blobs,
                           clock=FixedClock.on(date.fromisoformat(sys.argv[1])),
                           federal=inst.settings.retention_federal)
finally:
    inst.close()
print(" ".join(map(str, report.certificates)))
"""


@pytest.fixture
def office(tmp_path: Path, web_dist: Path) -> Iterator[Server]:
    with run_server(tmp_path / "office", web_dist) as srv:
        yield srv


def _plus_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)


def _jpeg() -> bytes:
    """A plain wound photo (no face, no text): the custodian lets it through."""
    image = Image.new("RGB", (800, 600), (196, 152, 128))
    ImageDraw.Draw(image).ellipse((300, 200, 520, 380), fill=(120, 40, 40))
    out = BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def _make_the_work(server: Server, tmp: Path) -> dict[str, str]:
    """A's patient, consent, photo and share to B; the withdrawal of teaching; B's override."""
    a_cli, b_cli = tmp / "a-cli", tmp / "b-cli"
    _cli_device(server, server.create_user("a.roy@chu.example", "Dr A. Roy"), a_cli, "a-laptop")
    _cli_device(server, server.create_user("b.cote@chu.example", "Dr B. Côté"), b_cli, "b-laptop")
    a, b = ("--profile", str(a_cli)), ("--profile", str(b_cli))
    pid = server.cli(
        "patient", "add", "--name", "Hélène Gagnon", "--dob", "1961-05-09", "--mrn", "8830211",
        "--province", "QC", *a,
    ).stdout.strip()  # fmt: skip
    recorded = server.cli(
        "consent", "record", "--patient", pid, "--purpose", "clinical_care", "--purpose",
        "education", "--method", "verbal", "--witness", "N. Roy, RN", "--informed-of-rights",
        "--text-version", "2026-11-fr", *a,
    ).stdout  # fmt: skip
    consent = recorded.split("consent ")[1].split()[0]
    encounter = recorded.split("encounter ")[1].split()[0]
    photo_file = tmp / "wound.jpg"
    photo_file.write_bytes(_jpeg())
    captured = server.cli(
        "capture", str(photo_file), "--patient", pid, "--encounter", encounter, *a
    ).stdout
    photo = captured.split("captured as ")[1].split()[0]
    server.cli("inspection", photo, "--wait", "90", *a, check=False)
    sent = server.cli(
        "share", photo, "--to", "b.cote@chu.example", "--purpose", "education", "--yes", *a
    ).stdout
    share = sent.split("shared as ")[1].split()[0]
    server.cli("consent", "withdraw", consent, "--purpose", "education", *a)
    server.cli(
        "patient", "override", pid, "--reason", "Called to the ER, the team is unreachable", *b
    )
    return {"patient": pid, "consent": consent, "photo": photo, "share": share, "a_cli": str(a_cli)}


def _officer_phone(browser: Browser, server: Server) -> Page:
    out = server.cli(
        "admin", "create-user", "--email", OFFICER, "--name", "P. Officer", "--role",
        "privacy_officer", "--institution", "CHU Example",
    ).stdout  # fmt: skip
    code = out.split("code (valid 24 hours):")[1].split()[0]
    page = new_phone(browser, server).new_page()
    page.goto("/")
    enroll(page, code, name="Officer phone")
    return page


def _section(page: Page, name: str, heading: str) -> None:
    page.get_by_role("navigation", name="Privacy office sections").get_by_role(
        "link", name=name, exact=True
    ).click()
    expect(page.get_by_role("heading", level=1, name=heading, exact=True)).to_be_visible()


def _fits_a_phone(page: Page) -> None:
    """No sideways scrolling at 360 pixels, in French (the longer words) too."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    switch_language(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    switch_language(page)


def _opened_pdf(page: Page, url: str, button: Locator) -> bytes:
    """Press a button that opens a document; the document the server sent (a PDF)."""
    got: list[tuple[int, str, bytes]] = []

    def keep(route: Route) -> None:
        response = route.fetch()
        got.append((response.status, response.headers["content-type"], response.body()))
        route.fulfill(response=response)

    pattern = re.compile(url)
    page.route(pattern, keep)
    button.click()
    for _ in range(300):
        if got:
            break
        page.wait_for_timeout(50)
    page.unroute(pattern)
    [(status, kind, body)] = got
    assert status == 200, body[:200]
    assert kind.startswith("application/pdf")
    return body


def _walk_the_requests(page: Page, patient: str) -> None:
    """A copy request (its report, and a package whose passphrase shows once) and a deletion
    request refused with a reason and its letter (RET-3, RET-4, AUD-3)."""
    requests = "Patients\N{RIGHT SINGLE QUOTATION MARK} requests"
    _section(page, requests, requests)
    assert_accessible(page, "office requests")
    copy_form = page.locator("form", has=page.get_by_role("heading", name="Record a copy request"))
    copy_form.get_by_label("Patient id").fill(patient)
    copy_form.get_by_label("French").check()
    copy_form.get_by_role("button", name="Record the request").click()
    expect(page.get_by_role("status")).to_have_text("Copy request recorded.")
    copy = page.get_by_test_id("copy")
    expect(copy).to_have_count(1)
    report = _opened_pdf(
        page,
        r"/copy-requests/[0-9a-f]{32}/report\.pdf$",
        copy.get_by_role("button", name="The report (PDF)"),
    )
    assert report.startswith(b"%PDF")
    copy.get_by_role("button", name="Prepare the package").click()
    passphrase = copy.get_by_test_id("passphrase")
    expect(passphrase).to_be_visible(timeout=30_000)
    assert len(passphrase.inner_text().strip()) >= 20

    deletion_form = page.locator(
        "form", has=page.get_by_role("heading", name="Record a deletion request")
    )
    deletion_form.get_by_label("Patient id").fill(patient)
    deletion_form.get_by_label("The patient\N{RIGHT SINGLE QUOTATION MARK}s request").fill(
        "Please delete every photo of me"
    )
    deletion_form.get_by_role("button", name="Record the request").click()
    expect(page.get_by_role("status")).to_have_text("Deletion request recorded.")
    deletion = page.get_by_test_id("deletion")
    expect(deletion).to_have_count(1)
    expect(deletion).to_contain_text("The patient asks: Please delete every photo of me")
    assert_accessible(page, "office deletion request")
    deletion.get_by_label("Refused", exact=True).check()
    deletion.get_by_label("Reason").fill("Kept under the Quebec retention rule")
    deletion.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_role("status")).to_have_text("Decision recorded.")
    expect(deletion).to_contain_text("Refused")
    letter = _opened_pdf(
        page,
        r"/deletion-requests/[0-9a-f]{32}/letter\.pdf$",
        deletion.get_by_role("button", name="Letter to the patient (PDF)"),
    )
    assert letter.startswith(b"%PDF")


def _walk_the_breach(page: Page) -> None:
    """The lost laptop in the queue and the register; contained, then assessed with the
    officer's classification; a party notified and its letter opened (BRE-1 to BRE-6)."""
    _section(page, "Review queue", "Review queue")
    expect(page.get_by_test_id("queue-breaches").get_by_test_id("open-breach")).to_have_count(1)
    _section(page, "Breaches", "Breach register")
    listed = page.get_by_test_id("breach")
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text("Lost device")
    expect(listed).to_contain_text("Reported by Dr A. Roy")
    assert_accessible(page, "office breaches")
    listed.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1, name="Breach: Lost device")).to_be_visible()
    expect(page.get_by_test_id("breach-device")).to_contain_text("a-laptop (Dr A. Roy)")
    expect(page.get_by_test_id("wipe-state")).to_contain_text("waiting for the device")
    expect(page.get_by_test_id("breach-status")).to_have_text("Reported")
    expect(page.get_by_test_id("proposed-classification")).to_contain_text("Proposed:")
    assert_accessible(page, "office breach")
    _fits_a_phone(page)

    # The steps go in order, each with its reason; the classification is decided at Assessed.
    form = page.get_by_test_id("step-form")
    expect(form.get_by_role("heading")).to_have_text("Next step: Contained")
    record = form.get_by_role("button", name="Record \N{LEFT DOUBLE QUOTATION MARK}Contained")
    record.click()
    expect(form.get_by_role("alert")).to_contain_text("Give the reason")
    form.get_by_label("Reason").fill("Laptop revoked at once; wipe queued")
    record.click()
    expect(page.get_by_test_id("breach-status")).to_have_text("Contained")
    form = page.get_by_test_id("step-form")
    expect(form.get_by_role("heading")).to_have_text("Next step: Assessed")
    form.get_by_label("Breach, low risk of harm").check()
    form.get_by_label("Reason").fill("Encrypted laptop; nothing held but uploaded photos")
    form.get_by_role("button", name="Record \N{LEFT DOUBLE QUOTATION MARK}Assessed").click()
    expect(page.get_by_test_id("breach-status")).to_have_text("Assessed")
    expect(page.get_by_test_id("decided-classification")).to_contain_text(
        "Decided: Breach, low risk of harm"
    )
    steps = page.get_by_test_id("breach-steps")
    expect(steps).to_contain_text("Laptop revoked at once; wipe queued")
    expect(steps).to_contain_text("Encrypted laptop; nothing held but uploaded photos")
    expect(page.get_by_test_id("step-form").get_by_role("heading")).to_have_text(
        "Next step: Notified"
    )

    # The checklist: a party recorded as notified, and its letter in French as a PDF.
    others = page.locator('[data-testid="notify-item"]:not([data-party="patients"])')
    expect(others.first).to_be_visible()
    item = others.first
    party = item.get_attribute("data-party")
    item.get_by_role("button", name=re.compile("^Record sent to")).click()
    item.get_by_label("How", exact=True).fill("secure e-mail")
    item.get_by_role("button", name="Record it").click()
    expect(item.get_by_test_id("sent")).to_contain_text("secure e-mail")
    expect(item.get_by_test_id("sent")).to_contain_text("P. Officer")
    letter = _opened_pdf(
        page,
        rf"/letters/{party}\.pdf\?lang=fr$",
        item.get_by_role("button", name=re.compile(r"\(French\)$")),
    )
    assert letter.startswith(b"%PDF")
    expect(item.get_by_test_id("pdf-link")).to_be_visible()
    assert_accessible(page, "office breach checklist")


def test_privacy_officer_walks_the_office(office: Server, browser: Browser, tmp_path: Path) -> None:
    server = office
    work = _make_the_work(server, tmp_path)
    page = _officer_phone(browser, server)

    # The privacy office: in the main navigation for a privacy officer, the queue first.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Privacy office").click()
    expect(page.get_by_role("heading", level=1, name="Review queue")).to_be_visible()
    overrides = page.get_by_test_id("queue-overrides")
    expect(overrides.get_by_test_id("override")).to_have_count(1)
    expect(overrides).to_contain_text("Called to the ER, the team is unreachable")
    withdrawals = page.get_by_test_id("queue-withdrawals")
    expect(withdrawals.get_by_test_id("withdrawal")).to_have_count(1)
    expect(withdrawals).to_contain_text("Shares to follow up: 1")
    expect(page.get_by_test_id("queue-to-follow")).to_contain_text("Nothing waiting.")
    expect(page.get_by_test_id("queue-quarantine")).to_contain_text("Nothing waiting.")
    assert_accessible(page, "office queue")
    _fits_a_phone(page)
    # The override reviewed leaves the queue (audited by the server).
    overrides.get_by_role("button", name="Mark reviewed").click()
    expect(page.get_by_role("status")).to_have_text("Override marked reviewed.")
    expect(overrides).to_contain_text("Nothing waiting.")

    # What was shared for teaching before the patient withdrew it: B, to follow up.
    withdrawals.get_by_role("link", name="See what was shared, and with whom").click()
    expect(page.get_by_role("heading", level=1, name="Shared before a withdrawal")).to_be_visible()
    disclosure = page.get_by_test_id("disclosure")
    expect(disclosure).to_have_count(1)
    expect(disclosure).to_contain_text("Dr B. Côté, CHU Example")
    expect(disclosure).to_contain_text("b.cote@chu.example")
    expect(disclosure).to_contain_text("To follow up")
    assert_accessible(page, "office disclosures")

    # A reports their laptop lost, from their phone: it is revoked and a wipe is queued.
    ctx_a, phone_a = _phone(browser, server, _approve(server, Path(work["a_cli"])), "A phone")
    phone_a.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Report a problem"
    ).click()
    phone_a.get_by_label("A phone or computer of mine was lost").check()
    phone_a.get_by_label("a-laptop", exact=True).check()
    phone_a.get_by_role("button", name="Send the report").click()
    expect(phone_a.get_by_role("heading", name="Problem reported")).to_be_visible(timeout=20_000)
    ctx_a.close()
    _walk_the_breach(page)

    # Patients' requests: a copy and a deletion, each with its document.
    _walk_the_requests(page, work["patient"])

    # Retention rules: each with its source; "CMPA recommendation, not confirmed" where so.
    _section(page, "Retention rules", "Retention rules")
    rules = page.get_by_test_id("rule")
    expect(rules).to_have_count(len(RULES))
    nunavut = page.locator('[data-jurisdiction="NU"]')
    expect(nunavut).to_contain_text("CMPA recommendation, not confirmed")
    ontario = page.locator('[data-jurisdiction="ON"]')
    expect(ontario).to_contain_text(f"{RULES['ON']['years_after_last_entry']} years after")
    expect(ontario.get_by_role("link", name=RULES["ON"]["source_url"])).to_be_visible()
    assert "CMPA recommendation" not in ontario.inner_text().split("Minors")[0]
    assert_accessible(page, "office retention rules")
    _fits_a_phone(page)
    # A change needs a reason; with it, the server keeps the rule and recomputes its dates.
    ontario.get_by_role("button", name="Change the rule for Ontario").click()
    editor = ontario.get_by_test_id("rule-editor")
    years = RULES["ON"]["years_after_last_entry"] + 2
    editor.get_by_label("Years after the last entry").fill(str(years))
    editor.get_by_role("button", name="Save the rule").click()
    expect(editor.get_by_role("alert")).to_contain_text("Give the reason")
    assert_accessible(page, "office rule change")
    reason = "Board of directors, decision 2026-41: keep two more years"
    editor.get_by_label("Reason for the change").fill(reason)
    editor.get_by_role("button", name="Save the rule").click()
    expect(page.get_by_role("status")).to_contain_text("Rule for Ontario saved")
    expect(ontario).to_contain_text(f"{years} years after the last entry")
    # The reason goes into the change's audit entry, sealed; the rule keeps its own source.
    expect(ontario).to_contain_text(RULES["ON"]["source"])
    expect(ontario).not_to_contain_text(reason)
    expect(ontario.get_by_test_id("rule-overridden")).to_be_visible()
    listed = server.cli("retention", "rules").stdout
    assert re.search(rf"\bON\b.*\b{years}\b", listed), listed
    assert "changed by" in listed

    # Holds: placed on the patient with a reason, then released with a reason.
    _section(page, "Holds", "Legal holds")
    assert_accessible(page, "office holds")
    form = page.get_by_test_id("place-hold")
    form.get_by_label("Id of the patient, encounter or item").fill(work["patient"])
    form.get_by_label("Reason").fill("Litigation notice 2026-118")
    form.get_by_role("button", name="Place the hold").click()
    expect(page.get_by_role("status")).to_have_text("Hold placed.")
    hold = page.locator(f'[data-testid="hold"][data-target="{work["patient"]}"]')
    expect(hold).to_contain_text("Litigation notice 2026-118")
    expect(hold).to_contain_text("In force")
    assert_accessible(page, "office hold placed")
    # While held, the sweep on the day the Quebec rule ends would not touch the photo.
    due = _plus_years(datetime.now(UTC).date(), RULES["QC"]["years_after_last_entry"])
    due += timedelta(days=1)
    preview = ("retention", "sweep", "--dry-run", "--as-of", due.isoformat())
    assert work["photo"] not in server.cli(*preview).stdout
    hold.get_by_role("button", name="Release this hold").click()
    hold.get_by_label("Reason for releasing it").fill("Notice withdrawn by counsel")
    hold.get_by_role("button", name="Release the hold").click()
    expect(page.get_by_role("status")).to_have_text("Hold released.")
    expect(hold).to_have_count(0)  # only holds in force are listed by default
    page.get_by_label("Show released holds too").check()
    expect(hold).to_contain_text("Notice withdrawn by counsel")
    expect(hold).to_contain_text("Released")

    assert work["photo"] in server.cli(*preview).stdout

    # The sweep on that day destroys the photo and its share copy, with a certificate.
    swept = subprocess.run(
        [sys.executable, "-c", SWEEP, due.isoformat()],
        env=server.env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert swept.returncode == 0, swept.stderr
    numbers = swept.stdout.split()
    assert numbers, swept.stdout
    _section(page, "Certificates", "Certificates of destruction")
    assert_accessible(page, "office certificates")
    page.get_by_label("Certificate number or id of a destroyed item").fill(work["photo"])
    page.get_by_role("button", name="Open", exact=True).click()
    text = page.get_by_test_id("certificate-text")
    expect(text).to_contain_text("CERTIFICATE OF DESTRUCTION")
    expect(text).to_contain_text(work["photo"])
    expect(text).to_contain_text(RULES["QC"]["source_url"])
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading.removeprefix("Certificate no. ") in numbers, (heading, numbers)
    expect(page.get_by_role("button", name="Print")).to_be_visible()
    assert_accessible(page, "office certificate")
    _fits_a_phone(page)

    # Who saw the patient's photos: A's capture and share to B, B's override; newest first.
    page.evaluate("(pid) => { location.hash = '#/officer/who-saw/' + pid; }", work["patient"])
    report = page.get_by_test_id("access-report")
    expect(report.get_by_test_id("access-event").first).to_be_visible()
    events = report.get_by_test_id("access-event")
    expect(report).to_contain_text("Dr A. Roy")
    expect(report).to_contain_text("Dr B. Côté")
    seqs = [int(s or 0) for s in events.evaluate_all("(els) => els.map((e) => e.dataset.seq)")]
    assert seqs == sorted(seqs, reverse=True), seqs
    assert_accessible(page, "office who saw")
    _fits_a_phone(page)

    # A desktop window: the office widens and nothing scrolls sideways.
    page.set_viewport_size({"width": 1280, "height": 900})
    _section(page, "Review queue", "Review queue")
    assert page.evaluate("document.querySelector('#app').getBoundingClientRect().width") > 1000
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    assert_accessible(page, "office queue desktop")

    verify = server.cli("audit", "verify", "--workers", "1")
    assert verify.returncode == 0


def test_a_clinician_has_no_privacy_office(server: Server, browser: Browser) -> None:
    """The link shows only for privacy officers; a clinician who types the address gets the
    server's refusals, never another patient's data."""
    code = server.create_user("c.office@chu.example", "Dr C. Office")
    page = new_phone(browser, server).new_page()
    page.goto("/")
    enroll(page, code, name="Clinician phone")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Devices")).to_be_visible()
    expect(nav.get_by_role("link", name="Privacy office")).to_have_count(0)
    page.evaluate("() => { location.hash = '#/officer/queue'; }")
    expect(page.get_by_role("heading", level=1, name="Review queue")).to_be_visible()
    alerts = page.get_by_test_id("queue-overrides").get_by_role("alert")
    expect(alerts).to_be_visible()
    expect(page.get_by_test_id("override")).to_have_count(0)
