"""The knowledge-base page (/kb) in headless Chromium against the real server with the admin API on.

The server (`python -m api --workers 1`) serves a temporary index of the corpus with its own knowledge-base
folder, so uploads and deletions here touch nothing else. The browser fixtures come from test_browser.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from ingest.build import build_index
from ingest.settings import PROJECT_ROOT, Settings
from tests.test_browser import _free_port, _severe_console_errors, _viewport, _wait, driver  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CORPUS = PROJECT_ROOT / "corpus"
TOKEN = "kb-page-token"
CHANGE_WAIT = 180  # an upload is parsed, chunked and embedded before the server answers

LANZHOU = """兰州市职工医保断缴后补缴和待遇恢复说明

发布时间:2026-02-01

一、断缴后能否补缴
兰州市参保职工因换工作等原因医保断缴不超过3个月的,由新单位在兰州市医保经办机构办理补缴,补缴后待遇连续计算。

二、补缴需要的材料
办理补缴需要提供身份证、劳动合同和单位出具的补缴申请,灵活就业人员可以在兰州医保微信公众号上申请补缴。

三、待遇恢复时间
断缴超过3个月的,补缴后从次月起恢复医保待遇,断缴期间发生的医疗费用不予报销。
"""
LANZHOU_V2 = LANZHOU.replace("从次月起", "满6个月后").replace("劳动合同", "劳动合同或工资流水")


@pytest.fixture(scope="module")
def kb_server(tmp_path_factory: pytest.TempPathFactory, test_settings: Settings, embedder):
    base = tmp_path_factory.mktemp("kb-page")
    s = test_settings.model_copy(update={"index_dir": base / "index", "kb_dir": base / "kb"})
    build_index(CORPUS, s.index_dir, settings=s, embedder=embedder, progress=False)
    port = _free_port()
    log_path = base / "server.log"
    env = {**os.environ, "YIBAO_INDEX_DIR": str(s.index_dir), "YIBAO_KB_DIR": str(s.kb_dir),
           "YIBAO_CACHE_DIR": str(s.cache_dir), "YIBAO_ADMIN_TOKEN": TOKEN, "PYTHONUNBUFFERED": "1"}
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
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    assert "Traceback" not in log_path.read_text()


# --- helpers --------------------------------------------------------------------------------------------

def _open_kb(drv, base: str, width: int = 1280, height: int = 900) -> None:
    from selenium.webdriver.common.by import By

    _viewport(drv, width, height)
    drv.get(base + "kb")
    drv.get_log("browser")  # drop earlier pages' messages
    _wait(drv, lambda d: d.find_elements(By.CSS_SELECTOR, "#doc-rows tr"))


def _set_token(drv, value: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    box = drv.find_element(By.ID, "token")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.DELETE)
    if value:
        box.send_keys(value)


def _rows(drv) -> dict[str, dict[str, str]]:
    """doc_id → the row's cell texts, keyed by the cell's class (kb-origin, kb-publisher, …)."""
    return drv.execute_script("""
        var out = {};
        document.querySelectorAll('#doc-rows tr').forEach(function (tr) {
          var cells = {};
          tr.querySelectorAll('td').forEach(function (td) {
            var key = Array.prototype.find.call(td.classList, function (c) { return c.indexOf('kb-') === 0
              && c !== 'kb-num'; });
            cells[key || td.getAttribute('data-label')] = td.textContent.trim();
          });
          cells.title = tr.querySelector('.kb-title').textContent;
          out[tr.getAttribute('data-doc-id')] = cells;
        });
        return out;""")


def _row(drv, doc_id: str):
    from selenium.webdriver.common.by import By

    return drv.find_element(By.CSS_SELECTOR, f"#doc-rows tr[data-doc-id='{doc_id}']")


def _confirm(drv) -> None:
    from selenium.webdriver.common.by import By

    dialog = drv.find_element(By.ID, "confirm")
    _wait(drv, lambda d: dialog.is_displayed(), timeout=5)
    assert dialog.find_element(By.ID, "confirm-text").text
    drv.find_element(By.ID, "confirm-ok").click()
    _wait(drv, lambda d: not dialog.is_displayed(), timeout=5)


def _upload(drv, path: Path) -> None:
    from selenium.webdriver.common.by import By

    drv.find_element(By.ID, "upload-file").send_keys(str(path))
    drv.find_element(By.ID, "upload-button").click()


def _result(drv, box_id: str, timeout: float = CHANGE_WAIT):
    """The result box once it shows an outcome (ok or error), not the busy notice."""
    from selenium.webdriver.common.by import By

    box = drv.find_element(By.ID, box_id)
    _wait(drv, lambda d: box.is_displayed() and ("ok" in box.get_attribute("class").split()
                                                 or "error" in box.get_attribute("class").split()), timeout)
    return box


def _no_horizontal_scroll(drv) -> None:
    inner, body, doc = drv.execute_script(
        "return [window.innerWidth, document.body.scrollWidth, document.documentElement.scrollWidth];")
    assert body <= inner and doc <= inner, (inner, body, doc)


# --- tests ----------------------------------------------------------------------------------------------

def test_upload_view_replace_delete(kb_server: str, driver, tmp_path: Path) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    _open_kb(driver, kb_server)
    assert driver.title.startswith("知识库管理")
    version_before = driver.find_element(By.CSS_SELECTOR, "#kb-version .kb-version-id").text
    assert "知识库版本" in driver.find_element(By.ID, "kb-version").text and version_before
    corpus = _rows(driver)
    assert len(corpus) == 5 and {r["kb-origin"] for r in corpus.values()} == {"语料"}
    assert {r["kb-status"] for r in corpus.values()} == {"有效"}
    assert any(r["kb-publisher"] == "找法网" for r in corpus.values())

    _set_token(driver, TOKEN)
    article = tmp_path / "兰州医保断缴补缴.txt"
    article.write_text(LANZHOU, encoding="utf-8")
    driver.find_element(By.ID, "meta-publisher").send_keys("兰州市医疗保障局")
    driver.find_element(By.ID, "meta-regions").send_keys("兰州市, 甘肃")
    driver.find_element(By.XPATH, "//label[contains(@class,'kb-check')][contains(., '职工医保')]").click()
    _upload(driver, article)
    result = _result(driver, "upload-result")
    assert "ok" in result.get_attribute("class"), result.text
    assert "已添加" in result.text and "个段落" in result.text and "知识库版本" in result.text

    # the new row: origin 上传, the typed metadata, and the list's version moved on
    _wait(driver, lambda d: any(r["kb-origin"] == "上传" for r in _rows(d).values()))
    rows = _rows(driver)
    doc_id, row = next((k, r) for k, r in rows.items() if r["kb-origin"] == "上传")
    assert doc_id in result.text
    assert "兰州" in row["title"] and row["kb-status"] == "有效"
    assert row["kb-publisher"] == "兰州市医疗保障局" and row["kb-regions"] == "兰州市、甘肃"
    assert row["kb-types"] == "职工医保" and row["kb-date"] == "2026-02-01" and int(row["kb-chunks"]) >= 1
    assert driver.find_element(By.CSS_SELECTOR, "#kb-version .kb-version-id").text != version_before
    assert "令牌有效" in driver.find_element(By.ID, "token-state").text
    assert driver.find_element(By.ID, "meta-publisher").get_attribute("value") == ""  # the form was reset
    driver.save_screenshot(str(tmp_path / "kb-desktop.png"))
    driver.execute_script("arguments[0].scrollIntoView({block: 'end'})", _row(driver, doc_id))
    driver.save_screenshot(str(tmp_path / "kb-desktop-list.png"))

    # 查看: the cleaned text in the side panel
    _row(driver, doc_id).find_element(By.CSS_SELECTOR, ".kb-view").click()
    panel = driver.find_element(By.ID, "panel")
    _wait(driver, lambda d: panel.is_displayed() and "断缴" in d.find_element(By.ID, "doc-text").text)
    assert "劳动合同" in driver.find_element(By.ID, "doc-text").text
    assert "兰州" in driver.find_element(By.ID, "panel-title").text
    chips = [c.text for c in driver.find_elements(By.CSS_SELECTOR, "#panel-meta .chip")]
    assert "上传" in chips and "兰州市医疗保障局" in chips and doc_id in chips
    driver.save_screenshot(str(tmp_path / "kb-panel.png"))
    driver.find_element(By.ID, "panel-close").click()
    _wait(driver, lambda d: not panel.is_displayed(), timeout=5)

    # the filter box
    box = driver.find_element(By.ID, "filter")
    box.send_keys("兰州")
    _wait(driver, lambda d: list(_rows(d)) == [doc_id], timeout=5)
    assert "1 / 6" in driver.find_element(By.ID, "kb-count").text
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.DELETE)
    _wait(driver, lambda d: len(_rows(d)) == 6, timeout=5)

    # the same content again: recognised, not added twice
    _upload(driver, article)
    _wait(driver, lambda d: "已存在" in d.find_element(By.ID, "upload-result").text)
    assert len(_rows(driver)) == 6

    # 替换: file picker → confirm → PUT; same doc_id, new text
    revised = tmp_path / "兰州医保断缴补缴-修订.txt"
    revised.write_text(LANZHOU_V2, encoding="utf-8")
    _row(driver, doc_id).find_element(By.CSS_SELECTOR, ".kb-replace-file").send_keys(str(revised))
    _confirm(driver)
    replaced = _result(driver, "list-result")
    assert "ok" in replaced.get_attribute("class"), replaced.text
    assert "已替换" in replaced.text and doc_id in replaced.text
    _row(driver, doc_id).find_element(By.CSS_SELECTOR, ".kb-view").click()
    _wait(driver, lambda d: "工资流水" in d.find_element(By.ID, "doc-text").text)
    driver.find_element(By.ID, "panel-close").click()

    # 删除: confirm → DELETE → gone from the list
    _row(driver, doc_id).find_element(By.CSS_SELECTOR, ".kb-delete").click()
    _confirm(driver)
    _wait(driver, lambda d: "已删除" in d.find_element(By.ID, "list-result").text, CHANGE_WAIT)
    _wait(driver, lambda d: doc_id not in _rows(d), timeout=10)
    rows = _rows(driver)
    assert len(rows) == 5 and "上传" not in {r["kb-origin"] for r in rows.values()}
    with urllib.request.urlopen(kb_server + "api/documents", timeout=10) as r:
        assert doc_id.encode() not in r.read()
    assert _severe_console_errors(driver) == []


def test_cancelled_delete_changes_nothing(kb_server: str, driver) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By

    _open_kb(driver, kb_server)
    _set_token(driver, TOKEN)
    before = _rows(driver)
    first = next(iter(before))
    _row(driver, first).find_element(By.CSS_SELECTOR, ".kb-delete").click()
    dialog = driver.find_element(By.ID, "confirm")
    _wait(driver, lambda d: dialog.is_displayed(), timeout=5)
    assert first in dialog.text
    driver.find_element(By.ID, "confirm-cancel").click()
    _wait(driver, lambda d: not dialog.is_displayed(), timeout=5)
    time.sleep(0.5)
    assert _rows(driver) == before
    assert not driver.find_element(By.ID, "list-result").is_displayed()


def test_wrong_or_missing_token(kb_server: str, driver, tmp_path: Path) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By

    _open_kb(driver, kb_server)
    article = tmp_path / "兰州.txt"
    article.write_text(LANZHOU, encoding="utf-8")

    # no token: stopped on the page, the note says how the admin API is enabled
    _set_token(driver, "")
    _upload(driver, article)
    result = _result(driver, "upload-result", timeout=5)
    assert "请先填写管理令牌" in result.text and "YIBAO_ADMIN_TOKEN" in result.text
    assert "YIBAO_ADMIN_TOKEN" in driver.find_element(By.ID, "token-note").text

    # a wrong token: the server's 401 message, in Chinese, and the token field is marked
    _set_token(driver, "not-the-token")
    assert driver.execute_script("return sessionStorage.getItem('yibao-kb-token')") == "not-the-token"
    driver.find_element(By.ID, "upload-button").click()
    result = _result(driver, "upload-result")
    assert "error" in result.get_attribute("class").split()
    assert "HTTP 401" in result.text and "缺少或错误的管理令牌" in result.text
    assert "令牌无效" in driver.find_element(By.ID, "token-state").text
    assert driver.find_element(By.ID, "token").get_attribute("aria-invalid") == "true"
    assert len(_rows(driver)) == 5
    driver.save_screenshot(str(tmp_path / "kb-401.png"))

    # the token survives a reload of the tab (sessionStorage) and is not in a cookie or localStorage
    driver.refresh()
    _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#doc-rows tr"))
    assert driver.find_element(By.ID, "token").get_attribute("value") == "not-the-token"
    assert driver.execute_script("return document.cookie + JSON.stringify(localStorage)") == "{}"
    _set_token(driver, "")


def test_server_error_message_is_shown(kb_server: str, driver, tmp_path: Path) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By

    _open_kb(driver, kb_server)
    _set_token(driver, TOKEN)
    fake = tmp_path / "通知.pdf"
    fake.write_text("这不是 PDF 文件", encoding="utf-8")
    _upload(driver, fake)
    result = _result(driver, "upload-result")
    assert "error" in result.get_attribute("class").split()
    assert "HTTP 415" in result.text and "文件内容不是 PDF" in result.text
    assert "令牌无效" not in driver.find_element(By.ID, "token-state").text
    assert not driver.find_element(By.ID, "upload-button").get_attribute("disabled")
    assert len(_rows(driver)) == 5
    _set_token(driver, "")


def test_phone_width_has_cards_and_no_horizontal_scroll(kb_server: str, driver, tmp_path: Path) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By

    _open_kb(driver, kb_server, 375, 812)
    assert driver.execute_script("return window.innerWidth") == 375
    _no_horizontal_scroll(driver)
    # rows are cards: no table header, each row a bordered grid that fits the screen
    assert not driver.find_element(By.CSS_SELECTOR, "#doc-table thead").is_displayed()
    row = driver.find_element(By.CSS_SELECTOR, "#doc-rows tr")
    assert driver.execute_script("return getComputedStyle(arguments[0]).display", row) == "grid"
    rect = driver.execute_script("return arguments[0].getBoundingClientRect().toJSON()", row)
    assert rect["left"] >= 0 and rect["right"] <= 375
    for button in row.find_elements(By.CSS_SELECTOR, ".kb-view, .kb-replace, .kb-delete"):
        assert button.is_displayed()
    # the optional metadata starts folded on a phone
    assert driver.find_element(By.ID, "meta-box").get_attribute("open") is None
    driver.save_screenshot(str(tmp_path / "kb-375.png"))
    driver.execute_script("document.getElementById('list-title').scrollIntoView()")
    driver.save_screenshot(str(tmp_path / "kb-375-list.png"))

    # 查看 on a phone: a bottom sheet across the width, still no horizontal scrolling
    row.find_element(By.CSS_SELECTOR, ".kb-view").click()
    panel = driver.find_element(By.ID, "panel")
    _wait(driver, lambda d: panel.is_displayed() and "断缴" in d.find_element(By.ID, "doc-text").text)
    _wait(driver, lambda d: d.execute_script("return arguments[0].getBoundingClientRect().bottom", panel) <= 812.5,
          timeout=5)
    sheet = driver.execute_script("return arguments[0].getBoundingClientRect().toJSON()", panel)
    assert sheet["left"] == 0 and sheet["width"] == 375
    _no_horizontal_scroll(driver)
    driver.save_screenshot(str(tmp_path / "kb-375-panel.png"))
    driver.find_element(By.ID, "panel-close").click()


def test_kb_page_is_served_like_the_chat_page(kb_server: str) -> None:
    with urllib.request.urlopen(kb_server + "kb", timeout=10) as r:
        body = r.read().decode()
        assert r.headers["Cache-Control"] == "no-cache"
        assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert '<script src="/static/kb.js" defer></script>' in body
    assert "<style" not in body and " style=" not in body and "onclick" not in body
    with urllib.request.urlopen(kb_server + "openapi.json", timeout=10) as r:
        assert '"/kb"' not in r.read().decode()
