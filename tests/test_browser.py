"""The chat page in headless Chromium against the real server (`python -m api`) over the test index."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from ingest.settings import PROJECT_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
SCREENSHOTS = PROJECT_ROOT / "var" / "screenshots"
CHROME_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
WAIT = 30


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(built_index: Path, tmp_path_factory: pytest.TempPathFactory):
    port = _free_port()
    log_path = tmp_path_factory.mktemp("server") / "server.log"
    env = {**os.environ, "YIBAO_INDEX_DIR": str(built_index), "PYTHONUNBUFFERED": "1"}
    env.pop("YIBAO_STORE_QUESTIONS", None)
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "api", "--host", "127.0.0.1", "--port", str(port), "--no-build",
             "--log-level", "warning"],
            cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"server exited with {proc.returncode}:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(base + "api/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"server did not start:\n{log_path.read_text()}")
            time.sleep(0.25)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    output = log_path.read_text()
    assert f"serving on http://127.0.0.1:{port}/" in output
    assert "Traceback" not in output, output


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory):
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"selenium not installed: {exc}")
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):  # pragma: no cover
        pytest.skip("chromium not installed: apt-get install -y chromium chromium-driver")
    options = webdriver.ChromeOptions()
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium')}")
    options.add_argument("--window-size=1280,900")
    options.binary_location = CHROMIUM
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    drv.set_page_load_timeout(WAIT)
    try:
        yield drv
    finally:
        drv.quit()


def _viewport(drv, width: int, height: int) -> None:
    drv.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})


def _wait(drv, condition, timeout: float = WAIT):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(drv, timeout).until(condition)


def _ask(drv, question: str) -> None:
    from selenium.webdriver.common.by import By

    before = len(drv.find_elements(By.CSS_SELECTOR, ".msg.bot"))
    box = drv.find_element(By.ID, "question")
    box.clear()
    box.send_keys(question)
    drv.find_element(By.ID, "send").click()
    # the loading card is replaced by the answer (or an error card)
    _wait(drv, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".msg.bot")) > before
          and not d.find_elements(By.CSS_SELECTOR, ".card.loading"))


def _severe_console_errors(drv) -> list[str]:
    return [e["message"] for e in drv.get_log("browser") if e.get("level") == "SEVERE"]


def _open(drv, base: str, width: int = 1280, height: int = 900) -> None:
    _viewport(drv, width, height)
    drv.get(base)
    drv.get_log("browser")  # drop earlier pages' messages


def test_answer_citation_opens_passage_with_highlight(server: str, driver) -> None:
    from selenium.webdriver.common.by import By

    _open(driver, server)
    assert driver.title == "医保断缴问答"
    _ask(driver, "断缴3个月后补缴,多久能恢复报销?")
    card = driver.find_element(By.CSS_SELECTOR, ".msg.bot .card.answer")
    refs = card.find_elements(By.CSS_SELECTOR, ".answer-text .cite")
    assert refs and refs[0].text == "[1]"
    assert card.find_elements(By.CSS_SELECTOR, ".sources .source")

    refs[0].click()
    panel = driver.find_element(By.ID, "panel")
    _wait(driver, lambda d: panel.is_displayed())
    title = driver.find_element(By.ID, "panel-title").text
    assert title
    assert driver.find_element(By.ID, "panel-kicker").text == "引用 [1]"
    passage = driver.find_element(By.ID, "passage")
    marks = passage.find_elements(By.TAG_NAME, "mark")
    assert marks, "the quoted part is highlighted"
    assert marks[0].text.strip() and marks[0].text.strip() in passage.text
    assert len(passage.text) > len(marks[0].text)
    chips = [c.text for c in driver.find_elements(By.CSS_SELECTOR, "#panel-meta .chip")]
    assert chips and any("日期" in c for c in chips)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / "answer.png"))

    # the whole document, with the passage and its highlight kept in place
    driver.find_element(By.ID, "panel-full").click()
    _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#passage .in-passage mark"))
    assert len(driver.find_element(By.ID, "passage").text) > len(passage.text) // 2
    driver.find_element(By.ID, "panel-close").click()
    _wait(driver, lambda d: not panel.is_displayed())
    assert _severe_console_errors(driver) == []


def test_calculation_card(server: str, driver) -> None:
    from selenium.webdriver.common.by import By

    _open(driver, server)
    driver.find_element(By.XPATH, "//button[@class='example' and contains(., '4340')]").click()
    _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".card.answer .calc"))
    calc = driver.find_element(By.CSS_SELECTOR, ".card.answer .calc")
    assert "173.60" in calc.find_element(By.CSS_SELECTOR, ".calc-result").text
    assert "4340" in calc.find_element(By.CSS_SELECTOR, ".calc-formula").text
    labels = [dt.text for dt in calc.find_elements(By.CSS_SELECTOR, ".calc-inputs dt")]
    assert "缴费基数" in labels and "费率" in labels
    values = [dd.text for dd in calc.find_elements(By.CSS_SELECTOR, ".calc-inputs dd")]
    assert "4%" in values
    assert calc.find_elements(By.CSS_SELECTOR, ".calc-sources .cite")
    driver.save_screenshot(str(SCREENSHOTS / "calculation.png"))


def test_user_text_is_shown_literally(server: str, driver) -> None:
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    _open(driver, server)
    question = "<script>alert(1)</script> 和 <img src=x onerror=alert(1)> 医保断缴怎么补缴?"
    _ask(driver, question)
    bubble = driver.find_elements(By.CSS_SELECTOR, ".msg.user .bubble-user")[-1]
    assert "<script>alert(1)</script>" in bubble.text
    assert "<img src=x onerror=alert(1)>" in bubble.text
    assert driver.find_elements(By.CSS_SELECTOR, "img[src='x']") == []
    assert driver.find_elements(By.CSS_SELECTOR, "#messages script, #messages img") == []
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018
    assert driver.find_elements(By.CSS_SELECTOR, ".msg.bot .card")


def test_refusal_is_a_polite_notice_on_a_phone(server: str, driver) -> None:
    from selenium.webdriver.common.by import By

    _open(driver, server, 375, 812)
    assert driver.execute_script("return document.documentElement.scrollWidth") <= 375
    driver.find_element(By.XPATH, "//button[@class='example' and contains(., '公积金')]").click()
    _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".card.notice"))
    assert not driver.find_elements(By.CSS_SELECTOR, ".card.error")
    notice = driver.find_element(By.CSS_SELECTOR, ".card.notice")
    assert "公积金" in notice.text
    r, g, b = driver.execute_script(
        "var c = getComputedStyle(arguments[0]).backgroundColor.match(/\\d+/g); return c.slice(0, 3).map(Number);",
        notice,
    )
    assert not (r > g + 40 and r > b + 40), "a refusal must not look like an error"
    driver.save_screenshot(str(SCREENSHOTS / "refusal-375.png"))

    # a citation on a phone opens a bottom sheet that fits the width
    _ask(driver, "天津医保断交了怎么在网上补缴?")
    driver.find_elements(By.CSS_SELECTOR, ".card.answer .answer-text .cite")[0].click()
    panel = driver.find_element(By.ID, "panel")
    _wait(driver, lambda d: panel.is_displayed())
    # (after the slide-in animation)
    _wait(driver, lambda d: d.execute_script("return arguments[0].getBoundingClientRect().bottom;", panel) <= 812.5,
          timeout=5)
    rect = driver.execute_script("return arguments[0].getBoundingClientRect().toJSON();", panel)
    assert rect["left"] == 0 and rect["width"] == 375 and rect["top"] > 812 * 0.2
    assert driver.execute_script("return document.documentElement.scrollWidth") <= 375
    driver.save_screenshot(str(SCREENSHOTS / "citation-375.png"))


def test_server_error_message_is_shown(server: str, driver) -> None:
    from selenium.webdriver.common.by import By

    _open(driver, server)
    # the textarea stops at 500 characters; a script can still send more, and the server's message shows
    driver.execute_script("document.getElementById('question').value = arguments[0];", "断" * 600)
    driver.find_element(By.ID, "send").click()
    _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".card.error"))
    error = driver.find_element(By.CSS_SELECTOR, ".card.error")
    assert "问题不能超过 500 个字" in error.text
    assert "question must be at most 500 characters" in error.text

    # an empty question is stopped on the page without a request
    driver.find_element(By.ID, "question").send_keys("   ")
    driver.find_element(By.ID, "send").click()
    assert driver.find_element(By.ID, "hint").text == "请先输入问题。"


def test_docs_render_offline_under_the_csp(server: str, driver) -> None:
    from selenium.webdriver.common.by import By

    _open(driver, server + "docs")
    _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".swagger-ui .info .title"))
    assert "yibao-qa" in driver.find_element(By.CSS_SELECTOR, ".swagger-ui .info .title").text
    _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock-summary-path"))
    paths = {e.text.replace("\u200b", "") for e in driver.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")}
    assert "/api/ask" in paths
    # "try it out" is on: run the first example of /api/ask from the page
    driver.find_element(By.CSS_SELECTOR, "[id^='operations-'][id$='ask_api_ask_post'] .opblock-summary").click()
    _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock.is-open .execute"))
    driver.find_element(By.CSS_SELECTOR, ".opblock.is-open .execute").click()
    _wait(driver, lambda d: any('"refused"' in e.text for e in d.find_elements(By.CSS_SELECTOR,
                                                                               ".live-responses-table .microlight")))
    assert _severe_console_errors(driver) == []
