"""The knowledge-gap page (/kb/insights) in headless Chromium against the real server.

A few questions the service cannot answer are asked through the API in one conversation; the page (with the
admin token) shows them grouped, most frequent first, and turns a group into a FAQ pair, after which the chat
page answers the question from the FAQ. Server and browser fixtures come from test_chat_page / test_browser.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.settings import Settings
from tests.test_browser import _severe_console_errors, _viewport, _wait, driver  # noqa: F401
from tests.test_chat_page import Server, _ask, _click, _no_page_scroll, serve

pytestmark = [pytest.mark.slow, pytest.mark.browser]

TOKEN = "insights-page-token"
TOKEN_KEY = "yibao-kb-token"  # the /kb page's key: one entry serves both pages
UNANSWERED = ["异地就医备案怎么办理?", "去外地看病怎么备案?", "医保电子凭证怎么激活?"]
ANSWER = "异地就医备案可以在国家医保服务平台App或当地医保经办机构办理,备案后在就医地直接结算。"


@pytest.fixture(scope="module")
def gap_server(tmp_path_factory: pytest.TempPathFactory, test_settings: Settings, embedder) -> Iterator[Server]:
    with serve(tmp_path_factory.mktemp("insights-page"), test_settings, embedder, TOKEN) as server:
        conversation = None
        for question in UNANSWERED:
            body = {"question": question, **({"conversation_id": conversation} if conversation else {})}
            status, answer = server.call("POST", "/api/ask", body)
            assert status == 200, answer
            assert answer["status"] in ("no_answer", "partial"), answer
            conversation = answer["conversation_id"]
        yield server


def _open_insights(drv, url: str, width: int = 1280, height: int = 900, *, clear: bool = False) -> None:
    _viewport(drv, width, height)
    drv.get(url + "kb/insights")
    if clear:
        drv.execute_script("window.sessionStorage.clear();")
        drv.get(url + "kb/insights")
    drv.get_log("browser")


def _set_token(drv, value: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    box = drv.find_element(By.ID, "token")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.DELETE)
    if value:
        box.send_keys(value)


def _clusters(drv) -> list[dict]:
    return drv.execute_script("""
        return Array.prototype.map.call(document.querySelectorAll('#clusters > .in-cluster'), function (li) {
          return {count: Number(li.dataset.count), head: li.querySelector('.in-count').textContent,
                  label: li.querySelector('.in-label-text').textContent,
                  examples: Array.prototype.map.call(li.querySelectorAll('.in-examples li'),
                                                     function (e) { return e.textContent; }),
                  meta: li.querySelector('.in-meta').textContent};
        });""")


def _console_errors(drv, *expected_statuses: int) -> list[str]:
    """Severe console messages, minus the network log lines of the error responses the test provoked."""
    allowed = tuple(f"status of {n} " for n in expected_statuses)
    return [m for m in _severe_console_errors(drv) if not any(a in m for a in allowed)]


def _load(drv) -> None:
    from selenium.webdriver.common.by import By

    _click(drv, drv.find_element(By.ID, "load"))
    _wait(drv, lambda d: d.find_element(By.ID, "load").is_enabled())


def test_clusters_are_shown_and_a_faq_pair_is_created(gap_server: Server, driver, tmp_path: Path) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By

    _open_insights(driver, gap_server.url, clear=True)
    assert driver.title.startswith("知识缺口")
    assert "管理令牌" in driver.find_element(By.ID, "status").text

    # a wrong token is reported, nothing is shown
    _set_token(driver, "wrong-token")
    _load(driver)
    status = driver.find_element(By.ID, "status")
    assert "error" in status.get_attribute("class") and "管理令牌不正确" in status.text
    assert not driver.find_element(By.ID, "clusters-box").is_displayed()
    assert driver.find_element(By.ID, "token").get_attribute("aria-invalid") == "true"

    _set_token(driver, TOKEN)
    _load(driver)
    _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#clusters .in-cluster"))
    assert driver.execute_script("return sessionStorage.getItem(arguments[0]);", TOKEN_KEY) == TOKEN
    clusters = _clusters(driver)
    counts = [c["count"] for c in clusters]
    assert counts == sorted(counts, reverse=True), "most frequent first"
    top = clusters[0]
    assert top["count"] >= 2 and top["head"] == f"{top['count']} 次"
    assert {"异地就医备案怎么办理?", "去外地看病怎么备案?"} <= set(top["examples"])
    assert len(top["examples"]) <= 5
    assert "首次" in top["meta"] and "最近" in top["meta"] and "资料中没有答案" in top["meta"]
    assert "被点踩 0" in top["meta"]
    assert any("医保电子凭证" in c["label"] for c in clusters[1:]), clusters
    bars = driver.find_elements(By.CSS_SELECTOR, "#volume .in-bar-row")
    assert bars and bars[-1].find_element(By.CSS_SELECTOR, ".in-bar-count").text == str(len(UNANSWERED))
    assert "共 3 个提问" in driver.find_element(By.ID, "summary").text
    driver.save_screenshot(str(tmp_path / "insights-report.png"))

    # the days filter reloads the report
    _click(driver, driver.find_element(By.XPATH, "//fieldset//span[text()='近 7 天']"))
    _wait(driver, lambda d: d.find_element(By.ID, "load").is_enabled()
          and d.find_elements(By.CSS_SELECTOR, "#clusters .in-cluster"))
    assert "近 7 天" in driver.find_element(By.ID, "summary").text
    assert _clusters(driver)[0]["count"] == top["count"]

    # a FAQ pair from the top cluster: the label is the question, the other examples the similar questions
    card = driver.find_elements(By.CSS_SELECTOR, "#clusters .in-cluster")[0]
    _click(driver, card.find_element(By.CSS_SELECTOR, ".in-create"))
    form = card.find_element(By.CSS_SELECTOR, "form.in-faq")
    _wait(driver, lambda d: form.is_displayed())
    question = form.find_element(By.CSS_SELECTOR, ".in-faq-question").get_attribute("value")
    assert question == top["label"]
    similar = form.find_element(By.CSS_SELECTOR, ".in-faq-similar").get_attribute("value").split("\n")
    assert set(similar) == set(top["examples"]) - {question}
    form.find_element(By.CSS_SELECTOR, ".in-faq-answer").send_keys(ANSWER)
    driver.save_screenshot(str(tmp_path / "insights-form.png"))
    _click(driver, form.find_element(By.CSS_SELECTOR, ".in-faq-submit"))
    result = form.find_element(By.CSS_SELECTOR, ".in-faq-result")
    _wait(driver, lambda d: "ok" in result.get_attribute("class") or "error" in result.get_attribute("class"),
          timeout=180)
    assert "已创建常见问题" in result.text, result.text
    assert not form.find_element(By.CSS_SELECTOR, ".in-faq-submit").is_enabled()
    driver.save_screenshot(str(tmp_path / "insights.png"))

    status, faq = gap_server.call("GET", "/api/faq")
    assert status == 200
    pairs = [p for p in faq["pairs"] if p["question"] == question]
    assert len(pairs) == 1, faq
    assert pairs[0]["answer"] == ANSWER
    assert set(pairs[0]["similar_questions"]) == set(similar)

    # the server's refusal is shown: another cluster's pair asking a question the new pair already asks as a
    # similar question (the same main question would replace the pair: "已更新")
    other = driver.find_elements(By.CSS_SELECTOR, "#clusters .in-cluster")[1]
    _click(driver, other.find_element(By.CSS_SELECTOR, ".in-create"))
    form2 = other.find_element(By.CSS_SELECTOR, "form.in-faq")
    box = form2.find_element(By.CSS_SELECTOR, ".in-faq-question")
    box.clear()
    box.send_keys(similar[0])
    form2.find_element(By.CSS_SELECTOR, ".in-faq-answer").send_keys("另一个答案")
    _click(driver, form2.find_element(By.CSS_SELECTOR, ".in-faq-submit"))
    result2 = form2.find_element(By.CSS_SELECTOR, ".in-faq-result")
    _wait(driver, lambda d: "busy" not in result2.get_attribute("class"), timeout=180)
    assert "error" in result2.get_attribute("class"), result2.text
    assert "没有创建" in result2.text and "问法相同" in result2.text, result2.text
    assert form2.find_element(By.CSS_SELECTOR, ".in-faq-submit").is_enabled()
    assert _console_errors(driver, 401, 409) == []

    # the chat page now answers from the FAQ, labelled as such
    _viewport(driver, 1280, 900)
    driver.get(gap_server.url)
    card = _ask(driver, "异地就医备案怎么办理?")
    assert card.find_element(By.CSS_SELECTOR, ".badge-faq").text == "常见问题"
    assert "异地就医备案怎么办理?" in card.find_element(By.CSS_SELECTOR, ".faq-match").text
    assert card.find_elements(By.CSS_SELECTOR, ".feedback .fb-up")
    driver.save_screenshot(str(tmp_path / "chat-faq.png"))


def test_insights_fit_a_phone_and_share_the_token_with_kb(gap_server: Server, driver, tmp_path: Path) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By

    _open_insights(driver, gap_server.url, 375, 812, clear=True)
    _set_token(driver, TOKEN)
    _load(driver)
    _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#clusters .in-cluster"))
    assert _no_page_scroll(driver, 375)
    driver.save_screenshot(str(tmp_path / "insights-375-top.png"))
    card = driver.find_elements(By.CSS_SELECTOR, "#clusters .in-cluster")[0]
    _click(driver, card.find_element(By.CSS_SELECTOR, ".in-create"))
    _wait(driver, lambda d: card.find_element(By.CSS_SELECTOR, "form.in-faq").is_displayed())
    assert _no_page_scroll(driver, 375)
    driver.save_screenshot(str(tmp_path / "insights-375.png"))

    # a reload keeps the token (this tab only) and loads the report at once
    driver.refresh()
    _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#clusters .in-cluster"))
    assert driver.find_element(By.ID, "token").get_attribute("value") == TOKEN
    # the /kb page reads the same entry
    if Path(__file__).resolve().parent.parent.joinpath("api/static/kb.html").is_file():
        driver.get(gap_server.url + "kb")
        _wait(driver, lambda d: d.find_element(By.ID, "token").get_attribute("value") == TOKEN, timeout=10)
    assert _severe_console_errors(driver) == []
