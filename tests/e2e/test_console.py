"""What a developer and a portal user do in a browser: log in on the landing page, explore the graph in
GraphiQL with the session cookie, arrive through the unified login, set a password from a mailed link."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from urllib.parse import quote

import httpx
from playwright.sync_api import Page, Response, expect

from tests.contract.test_identity import written_mails
from tests.contract.test_personas import ILZE, JANIS, LIGA

VIEWER = "{ viewer { user { email } } }"


def log_in(page: Page, url: str, email: str, password: str = "Radio-2026") -> None:
    page.goto(f"{url}/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def run_in_graphiql(page: Page, url: str, query: str) -> dict[str, object]:
    """Open GraphiQL with ``query`` in its editor, run it, and read the answer from the result pane."""
    page.goto(f"{url}/graphql?q={quote(query)}")
    run = page.locator("button.graphiql-execute-button")
    expect(run).to_be_enabled()

    def ours(response: Response) -> bool:  # not the introspection query GraphiQL sends as it opens
        sent = response.request
        return (
            sent.method == "POST"
            and sent.url.startswith(f"{url}/graphql")
            and query in (sent.post_data or "")
        )

    with page.expect_response(ours) as sent:
        run.click()
    answer: dict[str, object] = sent.value.json()
    # What the page shows is that same answer.
    shown = page.locator(".graphiql-response .CodeMirror-code")
    expect(shown).to_contain_text('"data"')
    assert json.loads(shown.inner_text().replace("\xa0", " ")) == answer
    return answer


def test_a_developer_logs_in_on_the_landing_page_and_queries_in_graphiql(
    page: Page, served: tuple[str, Path]
) -> None:
    url, _ = served
    log_in(page, url, JANIS)
    expect(page.get_by_role("status")).to_have_text("Logged in.")
    cookie = {c["name"]: c for c in page.context.cookies()}["esakari_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    page.get_by_role("link", name="GraphiQL").click()
    assert run_in_graphiql(page, url, VIEWER) == {"data": {"viewer": {"user": {"email": JANIS}}}}


def test_graphiql_without_a_session_sees_no_viewer_and_explores_the_schema(
    page: Page, served: tuple[str, Path]
) -> None:
    url, _ = served
    assert run_in_graphiql(page, url, VIEWER) == {"data": {"viewer": None}}
    page.get_by_role("button", name="Show Documentation Explorer").click()
    expect(page.locator(".graphiql-doc-explorer")).to_contain_text("Query")


def test_a_wrong_password_is_told_in_plain_words(page: Page, served: tuple[str, Path]) -> None:
    url, _ = served
    log_in(page, url, ILZE, "Not-her-password-1")
    expect(page.get_by_role("status")).to_have_text("Wrong e-mail or password.")
    assert "esakari_session" not in {c["name"] for c in page.context.cookies()}


def test_the_unified_login_lands_on_the_frontend_with_a_session(page: Page, served: tuple[str, Path]) -> None:
    url, _ = served
    page.goto(f"{url}/auth/unified/login?login_hint=140385-12341")  # Jānis Bērziņš's personal code
    page.wait_for_url(f"{url}/")
    assert run_in_graphiql(page, url, VIEWER) == {"data": {"viewer": {"user": {"email": JANIS}}}}


def test_a_mailed_reset_link_opens_a_page_that_sets_the_password(
    page: Page, served: tuple[str, Path]
) -> None:
    url, var = served
    assert httpx.post(f"{url}/auth/password/forgot", json={"email": LIGA}).status_code == 202
    deadline, link = time.monotonic() + 30, None
    while link is None and time.monotonic() < deadline:
        mails = "\n".join(body for to, body in written_mails(var / "outbox") if to == LIGA)
        link = re.search(r"http\S+/auth/password/reset\?token=\S+", mails)
        time.sleep(0.2)
    assert link, "no reset mail arrived"
    page.goto(link.group(0))
    page.get_by_label("New password").fill("Parole2026")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("The password needs: not a commonly used password.")
    page.get_by_label("New password").fill("Zilais-Ezers-58")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Saved.")
    login = httpx.post(f"{url}/auth/login", json={"email": LIGA, "password": "Zilais-Ezers-58"})
    assert login.status_code == 200
