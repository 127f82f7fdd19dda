"""A photo shared with the wrong colleague, end to end in Chromium (issue 10 §5; BRE-1,
BRE-2). The sender's phone shares a photo; the wrong colleague's phone opens it; the sender
presses "Sent to the wrong person" beside the share and reports it from "Report a problem",
which recalls it at once; the colleague's inbox no longer lists it and its download answers
404; the colleague's phone, at its next contact, drops the photo it was showing and confirms
the deletion, signed with its status key, which the breach register shows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Server, run_server
from tests.browser.phone import assert_accessible, enroll, new_phone
from tests.browser.test_devices import _capture_a_photo
from tests.browser.test_lost_device import desk

pytestmark = pytest.mark.slow

SENDER = "m.sender@chu.example"
WRONG = "w.wrong-person@chu.example"


@pytest.fixture
def own_server(tmp_path: Path, web_dist: Path) -> Iterator[Server]:
    with run_server(tmp_path, web_dist) as srv:
        yield srv


def phone(browser: Browser, server: Server, email: str, name: str) -> Page:
    code = server.create_user(email, name)
    page = new_phone(browser, server).new_page()
    page.goto("/")
    enroll(page, code, name=f"{name}'s phone")
    return page


def share_photo(page: Page, to: str) -> tuple[str, str]:
    """Take a photo and share it with ``to`` once the custodian has inspected it; the
    patient's and the photo's ids."""
    _capture_a_photo(page, identifiable=True)  # the recall is the subject, not the verdict
    patient_id = re.findall(r"[0-9a-f]{32}", page.evaluate("location.hash"))[0]
    page.evaluate("(h) => { location.hash = h; }", f"#/photos/{patient_id}")
    page.get_by_test_id("timeline").locator("a").first.click()
    media_id = re.findall(r"[0-9a-f]{32}", page.evaluate("location.hash"))[1]
    page.evaluate("(h) => { location.hash = h; }", f"#/share/{patient_id}/{media_id}")
    page.get_by_label("Colleague\N{RIGHT SINGLE QUOTATION MARK}s e-mail").fill(to)
    page.get_by_role("button", name="Look up").click()
    expect(page.get_by_test_id("recipient")).to_contain_text("Dr W. Wrong-Person")
    page.get_by_label("I checked the name").check()
    page.get_by_role("button", name="Send").click()
    done = page.get_by_role("status").filter(has_text="Shared. Status: sent.")
    for _ in range(120):  # the custodian inspects the photo in the background first
        refused = page.get_by_role("alert").filter(has_text="still being inspected")
        expect(done.or_(refused)).to_be_visible(timeout=30_000)
        if done.is_visible():
            break
        page.wait_for_timeout(500)
        page.get_by_role("button", name="Send").click()
    expect(done).to_be_visible()
    return patient_id, media_id


def test_a_misdirected_share_is_recalled_and_the_wrong_phone_deletes_its_copy(
    own_server: Server, browser: Browser
) -> None:
    server = own_server
    sender = phone(browser, server, SENDER, "Dr M. Sender")
    wrong = phone(browser, server, WRONG, "Dr W. Wrong-Person")
    patient_id, media_id = share_photo(sender, WRONG)

    # The wrong colleague's phone opens it: the photo is decrypted in its memory.
    wrong.get_by_role("navigation").get_by_role("link", name="Inbox").click()
    inbox = wrong.get_by_test_id("inbox")
    expect(inbox.locator("li")).to_have_count(1)
    share_id = inbox.locator("a").first.get_attribute("data-share")
    assert share_id
    inbox.locator("a").first.click()
    expect(wrong.get_by_test_id("verified")).to_be_visible(timeout=30_000)
    expect(wrong.get_by_test_id("photo")).to_be_visible()
    wrong_device = wrong.evaluate(
        """() => new Promise((resolve) => {
            const r = indexedDB.open("clinphoto-status");
            r.onsuccess = () => {
                const g = r.result.transaction("key").objectStore("key").get("status");
                g.onsuccess = () => { r.result.close(); resolve(g.result.deviceId); };
            };
        })"""
    )

    # The sender sees the mistake beside the share and reports it: recalled at once.
    status = sender.get_by_test_id("share-status")
    expect(status).to_contain_text("Dr W. Wrong-Person")
    status.get_by_role("button", name="Sent to the wrong person").click()
    expect(sender.get_by_role("heading", name="Report a problem", exact=True)).to_be_visible()
    kind = sender.get_by_role("radio", name="A photo was sent to the wrong person")
    expect(kind).to_be_checked()
    expect(sender.get_by_role("radio", name=re.compile("To Dr W. Wrong-Person"))).to_be_checked()
    assert_accessible(sender, "report a misdirected share")
    sender.get_by_label("What happened").fill("Chose the wrong name in the directory.")
    sender.get_by_role("button", name="Send the report").click()
    expect(sender.get_by_test_id("report-done")).to_contain_text("taken back")

    with desk(server, WRONG) as wrong_api:
        assert wrong_api.get("/v1/inbox").raise_for_status().json() == []
        assert wrong_api.get(f"/v1/shares/{share_id}/content").status_code == 404

    # The wrong phone's next contact (its network comes back): it leaves the photo it was
    # showing, no longer lists the share, and confirms the deletion.
    context = wrong.context
    context.set_offline(True)
    context.set_offline(False)
    expect(wrong.get_by_test_id("verified")).to_have_count(0, timeout=30_000)
    expect(
        wrong.get_by_role("paragraph").filter(has_text="Nothing has been shared with you")
    ).to_be_visible()
    expect(wrong.get_by_test_id("photo")).to_have_count(0)

    with desk(server, SENDER) as api:
        (summary,) = [
            b
            for b in api.get("/v1/breaches").raise_for_status().json()["breaches"]
            if b["kind"] == "misdirected_share"
        ]
        assert summary["share_id"] == share_id
        for _ in range(300):
            breach = api.get(f"/v1/breaches/{summary['id']}").raise_for_status().json()
            if breach["share"]["deletions"]:
                break
            wrong.wait_for_timeout(100)
        share = breach["share"]
        assert share["recalled_at"]
        assert share["recipient_name"] == "Dr W. Wrong-Person"
        assert share["opened_before_recall"] is True
        assert [d["device_id"] for d in share["deletions"]] == [wrong_device]
        assert share["deletions"][0]["deleted_at"]
        patients = {p["patient_id"]: p for p in breach["exposure"]["patients"]}
        assert set(patients) == {patient_id}
        assert "shared_by_mistake" in patients[patient_id]["reasons"]
        assert media_id in patients[patient_id]["media_ids"]
