"""The chat page's conversation features in headless Chromium against the real server.

The server (`python -m api --workers 1`) keeps conversations in a temporary SQLite file and serves a temporary
index of the corpus with its own knowledge-base folder, with the admin API on (to read a conversation back).
Follow-ups are read with the earlier turns ("理解为 …"), "重新开始" forgets the conversation, a conversation the
server no longer knows is replaced by a new one, and 👍/👎 (with an optional comment) are stored, masked.
The browser fixtures come from test_browser.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from ingest.build import build_index
from ingest.settings import PROJECT_ROOT, Settings
from tests.test_browser import _free_port, _severe_console_errors, _viewport, _wait, driver  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CORPUS = PROJECT_ROOT / "corpus"
TOKEN = "chat-page-token"
CONVERSATION_KEY = "yibao-conversation-id"

Q1 = "居民医保断了3个月补缴后多久能报销?"
Q2 = "那职工医保呢?"
COMPLETE = "职工医保断缴3个月后补缴,多久能恢复报销?"


@dataclass(frozen=True)
class Server:
    url: str
    token: str
    db: Path

    def call(self, method: str, path: str, body: dict | None = None, *, admin: bool = False) -> tuple[int, dict]:
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if admin:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url + path.lstrip("/"), data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=180) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")


@contextmanager
def serve(base: Path, settings: Settings, embedder, token: str) -> Iterator[Server]:
    """`python -m api --workers 1` over a fresh index of the corpus, its own KB folder and conversation store."""
    s = settings.model_copy(update={"index_dir": base / "index", "kb_dir": base / "kb",
                                    "conversations_db": base / "conversations.sqlite"})
    build_index(CORPUS, s.index_dir, settings=s, embedder=embedder, progress=False)
    port = _free_port()
    log_path = base / "server.log"
    env = {**os.environ, "YIBAO_INDEX_DIR": str(s.index_dir), "YIBAO_KB_DIR": str(s.kb_dir),
           "YIBAO_CACHE_DIR": str(s.cache_dir), "YIBAO_CONVERSATIONS_DB": str(s.conversations_db),
           "YIBAO_ADMIN_TOKEN": token, "PYTHONUNBUFFERED": "1"}
    env.pop("YIBAO_STORE_QUESTIONS", None)
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "api", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
             "--no-build", "--log-level", "warning"],
            cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                pytest.fail(f"server exited with {proc.returncode}:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(url + "api/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"server did not start:\n{log_path.read_text()}")
            time.sleep(0.25)
        yield Server(url, token, s.conversations_db)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    assert "Traceback" not in log_path.read_text()


@pytest.fixture(scope="module")
def chat_server(tmp_path_factory: pytest.TempPathFactory, test_settings: Settings, embedder) -> Iterator[Server]:
    with serve(tmp_path_factory.mktemp("chat-page"), test_settings, embedder, TOKEN) as server:
        yield server


# --- helpers --------------------------------------------------------------------------------------------

def _open_fresh(drv, url: str, width: int = 1280, height: int = 900) -> None:
    """The chat page in a tab with no conversation yet."""
    _viewport(drv, width, height)
    drv.get(url)
    drv.execute_script("window.sessionStorage.clear();")
    drv.get(url)
    drv.get_log("browser")  # drop earlier pages' messages


def _ask(drv, question: str):
    """Type and send a question; the new bot card (answer, notice or error)."""
    from selenium.webdriver.common.by import By

    before = len(drv.find_elements(By.CSS_SELECTOR, ".msg.bot"))
    box = drv.find_element(By.ID, "question")
    box.clear()
    box.send_keys(question)
    drv.find_element(By.ID, "send").click()
    _wait(drv, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".msg.bot")) > before
          and not d.find_elements(By.CSS_SELECTOR, ".card.loading"))
    return drv.find_elements(By.CSS_SELECTOR, ".msg.bot .card")[-1]


def _click(drv, element) -> None:
    """Click like a user who first scrolls the button out from under the sticky composer."""
    drv.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    element.click()


def _conversation(drv) -> str | None:
    return drv.execute_script("return window.sessionStorage.getItem(arguments[0]);", CONVERSATION_KEY)


def _no_page_scroll(drv, width: int) -> bool:
    return drv.execute_script("return document.documentElement.scrollWidth") <= width


# --- tests ----------------------------------------------------------------------------------------------

def test_follow_up_is_read_with_the_first_question_and_rated(chat_server: Server, driver, tmp_path: Path) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By

    _open_fresh(driver, chat_server.url)
    assert _conversation(driver) is None
    first = _ask(driver, Q1)
    assert "answer" in first.get_attribute("class")
    assert first.find_elements(By.CSS_SELECTOR, ".answer-text .cite"), "the existing answer look is kept"
    assert not first.find_elements(By.CSS_SELECTOR, ".understood"), "a complete question needs no 理解为 line"
    conversation = _conversation(driver)
    assert conversation and len(conversation) == 24

    second = _ask(driver, Q2)
    assert _conversation(driver) == conversation, "the follow-up is sent in the same conversation"
    understood = second.find_element(By.CSS_SELECTOR, ".understood")
    assert understood.text.startswith("理解为")
    assert "职工医保" in understood.find_element(By.CSS_SELECTOR, ".understood-as").text
    assert understood.find_element(By.CSS_SELECTOR, ".restart").text == "重新开始"

    # 👍 on the first answer is sent at once
    _click(driver, first.find_element(By.CSS_SELECTOR, ".fb-up"))
    _wait(driver, lambda d: "done" in first.find_element(By.CSS_SELECTOR, ".feedback").get_attribute("class"))
    assert "chosen" in first.find_element(By.CSS_SELECTOR, ".fb-up").get_attribute("class")
    assert not first.find_element(By.CSS_SELECTOR, ".fb-up").is_enabled()
    assert not first.find_element(By.CSS_SELECTOR, ".fb-down").is_enabled()

    # 👎 on the second asks for an optional comment first
    comment_box = second.find_element(By.CSS_SELECTOR, ".feedback-comment")
    assert not comment_box.is_displayed()
    _click(driver, second.find_element(By.CSS_SELECTOR, ".fb-down"))
    _wait(driver, lambda d: comment_box.is_displayed())
    assert second.find_element(By.CSS_SELECTOR, ".fb-skip").text == "跳过"
    text = "没说职工医保要等多久,我的电话13812345678"
    area = second.find_element(By.CSS_SELECTOR, ".feedback-text")
    assert area.get_attribute("maxlength") == "500"
    area.send_keys(text)
    assert second.find_element(By.CSS_SELECTOR, ".feedback-counter").text == f"{len(text)}/500"
    driver.save_screenshot(str(tmp_path / "chat-feedback-comment.png"))
    _click(driver, second.find_element(By.CSS_SELECTOR, ".fb-send"))
    feedback = second.find_element(By.CSS_SELECTOR, ".feedback")
    _wait(driver, lambda d: "done" in feedback.get_attribute("class"))
    assert not comment_box.is_displayed()
    down = second.find_element(By.CSS_SELECTOR, ".fb-down")
    assert "chosen" in down.get_attribute("class") and down.get_attribute("aria-pressed") == "true"
    assert not down.is_enabled() and not second.find_element(By.CSS_SELECTOR, ".fb-up").is_enabled()
    assert "谢谢" in second.find_element(By.CSS_SELECTOR, ".feedback-status").text
    driver.save_screenshot(str(tmp_path / "chat-follow-up.png"))

    # stored: both ratings, the comment with the phone number masked
    status, body = chat_server.call("GET", f"/api/conversations/{conversation}", admin=True)
    assert status == 200, body
    turns = body["turns"]
    assert [t["question"] for t in turns] == [Q1, Q2]
    assert "职工医保" in turns[1]["understood_as"]
    assert turns[0]["rating"] == "up" and turns[0]["comment"] is None
    assert turns[1]["rating"] == "down"
    assert "13812345678" not in turns[1]["comment"]
    assert turns[1]["comment"].startswith("没说职工医保要等多久") and "[手机号]" in turns[1]["comment"]
    assert _severe_console_errors(driver) == []


def test_restart_starts_a_fresh_conversation(chat_server: Server, driver) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By

    _open_fresh(driver, chat_server.url)
    _ask(driver, Q1)
    second = _ask(driver, Q2)
    old = _conversation(driver)
    _click(driver, second.find_element(By.CSS_SELECTOR, ".understood .restart"))
    note = driver.find_elements(By.CSS_SELECTOR, ".msg.system")[-1]
    assert "已开始新的对话" in note.text
    assert _conversation(driver) is None

    fresh = _ask(driver, COMPLETE)
    assert "answer" in fresh.get_attribute("class")
    assert not fresh.find_elements(By.CSS_SELECTOR, ".understood"), "answered alone: no 理解为 line"
    new = _conversation(driver)
    assert new and new != old
    status, body = chat_server.call("GET", f"/api/conversations/{new}", admin=True)
    assert status == 200 and [t["question"] for t in body["turns"]] == [COMPLETE]

    # after a reload the page says that new questions continue the tab's conversation, and can start over
    driver.refresh()
    resume = driver.find_element(By.ID, "resume")
    assert "进行中的对话" in resume.text
    _click(driver, resume.find_element(By.CSS_SELECTOR, ".restart"))
    assert _conversation(driver) is None and not driver.find_elements(By.ID, "resume")
    assert _severe_console_errors(driver) == []


def test_unknown_conversation_is_replaced_and_the_question_sent_again(chat_server: Server, driver) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By

    _open_fresh(driver, chat_server.url)
    first = _ask(driver, Q1)
    old = _conversation(driver)
    status, _ = chat_server.call("DELETE", f"/api/conversations/{old}")
    assert status == 200

    # rating an answer whose record is gone: a polite message, the buttons stay usable
    _click(driver, first.find_element(By.CSS_SELECTOR, ".fb-up"))
    feedback_status = first.find_element(By.CSS_SELECTOR, ".feedback-status")
    _wait(driver, lambda d: "failed" in feedback_status.get_attribute("class"))
    assert "已不存在" in feedback_status.text
    assert first.find_element(By.CSS_SELECTOR, ".fb-up").is_enabled()
    assert "chosen" not in first.find_element(By.CSS_SELECTOR, ".fb-up").get_attribute("class")

    card = _ask(driver, COMPLETE)
    assert "answer" in card.get_attribute("class"), "answered after the resend, not an error"
    assert not driver.find_elements(By.CSS_SELECTOR, ".card.error")
    assert "之前的对话已失效" in driver.find_elements(By.CSS_SELECTOR, ".msg.system")[-1].text
    new = _conversation(driver)
    assert new and new != old
    status, body = chat_server.call("GET", f"/api/conversations/{new}", admin=True)
    assert status == 200 and [t["question"] for t in body["turns"]] == [COMPLETE]
    # user-typed and server text is inserted as text
    assert driver.find_elements(By.CSS_SELECTOR, "#messages script, #messages img") == []


def test_feedback_and_follow_up_fit_a_phone(chat_server: Server, driver, tmp_path: Path) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By

    _open_fresh(driver, chat_server.url, 375, 812)
    assert _no_page_scroll(driver, 375)
    _ask(driver, Q1)
    second = _ask(driver, Q2)
    assert second.find_elements(By.CSS_SELECTOR, ".understood")
    _click(driver, second.find_element(By.CSS_SELECTOR, ".fb-down"))
    _wait(driver, lambda d: second.find_element(By.CSS_SELECTOR, ".feedback-comment").is_displayed())
    assert _no_page_scroll(driver, 375)
    driver.save_screenshot(str(tmp_path / "chat-375.png"))

    # 跳过: a 👎 without a comment
    _click(driver, second.find_element(By.CSS_SELECTOR, ".fb-skip"))
    _wait(driver, lambda d: "done" in second.find_element(By.CSS_SELECTOR, ".feedback").get_attribute("class"))
    status, body = chat_server.call("GET", f"/api/conversations/{_conversation(driver)}", admin=True)
    assert status == 200
    assert body["turns"][1]["rating"] == "down" and body["turns"][1]["comment"] is None

    # a refusal gets the feedback buttons too, and the page still fits
    notice = _ask(driver, "公积金断缴了怎么办?")
    assert "notice" in notice.get_attribute("class") and notice.find_elements(By.CSS_SELECTOR, ".fb-up")
    assert _no_page_scroll(driver, 375)
