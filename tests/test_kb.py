"""The living knowledge base: add, replace, remove while the service runs; atomic, serialised, durable."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ingest import store
from ingest.build import build_index
from ingest.kb import KnowledgeBase, KnowledgeError, read_catalog
from ingest.parse import UploadError
from ingest.settings import Settings
from qa.service import QAService

pytestmark = pytest.mark.slow

CORPUS = Path(__file__).resolve().parent.parent / "corpus"

LANZHOU = """兰州市城乡居民医保断缴后补缴办法(2026年)

发布时间:2026-01-10

一、补缴条件
兰州市城乡居民医保断缴不超过6个月的,可以在兰州市医保服务大厅补缴,补缴后第二个月起恢复待遇。

二、缴费标准
2026年度兰州市城乡居民医保个人缴费标准为每人每年380元,财政补助不低于700元。

三、办理渠道
可通过兰州医保微信公众号或者各区县医保经办大厅办理补缴,需要携带身份证和社保卡。
""".encode()

LANZHOU_V2 = LANZHOU.replace("第二个月".encode(), "第四个月".encode()).replace("380元".encode(), "420元".encode())


@pytest.fixture()
def kb_settings(tmp_path: Path, test_settings: Settings, embedder) -> Settings:
    s = test_settings.model_copy(update={"index_dir": tmp_path / "index", "kb_dir": tmp_path / "kb"})
    build_index(CORPUS, s.index_dir, settings=s, embedder=embedder, progress=False)
    return s


@pytest.fixture()
def kb(kb_settings: Settings, embedder) -> KnowledgeBase:
    return KnowledgeBase(kb_settings, embedder)


@pytest.fixture()
def service(kb_settings: Settings, embedder) -> QAService:
    return QAService.load(kb_settings, kb_settings.index_dir, embedder=embedder)


def _cited(service: QAService, question: str) -> list[str]:
    return [c.doc_id for c in service.ask(question).citations]


def test_upload_is_answered_and_cited_without_a_restart(kb, service):
    before = service.data.version
    r = kb.add("lanzhou.txt", LANZHOU, {"publisher": "兰州市医疗保障局"})
    assert r.created and r.doc_id.startswith("up-") and r.chunks >= 2 and r.version != before
    assert r.metadata["publisher"] == "兰州市医疗保障局"  # given metadata wins
    assert r.metadata["regions"] == ["兰州市"] and r.metadata["date"] == "2026-01-10"  # detected
    ans = service.ask("兰州的居民医保断缴了怎么补缴?")  # the same service object: it refreshes itself
    assert ans.citations[0].doc_id == r.doc_id and "兰州" in ans.answer
    doc = service.document(r.doc_id)
    for c in ans.citations:
        assert doc["text"][c.start : c.end] == c.text


def test_identical_content_is_recognised_and_not_embedded_again(kb):
    first = kb.add("lanzhou.txt", LANZHOU)
    again = kb.add("another-name.txt", LANZHOU)
    assert again.doc_id == first.doc_id and not again.created and again.version == first.version


def test_replace_cites_the_new_text_and_never_the_old(kb, service):
    r = kb.add("lanzhou.txt", LANZHOU)
    assert "380元" in service.ask("兰州2026年居民医保个人每年交多少钱?").answer
    new = kb.replace(r.doc_id, "lanzhou-2026-修订.txt", LANZHOU_V2)
    assert new.doc_id == r.doc_id
    ans = service.ask("兰州2026年居民医保个人每年交多少钱?")
    assert "420元" in ans.answer and "380元" not in ans.answer
    text = service.document(r.doc_id)["text"]
    assert "420元" in text and "380元" not in text
    for q in ("兰州的居民医保断缴了怎么补缴?", "兰州补缴后第几个月恢复待遇?"):
        for c in service.ask(q).citations:
            assert "380元" not in c.text and "第二个月" not in c.text


def test_removed_document_is_never_cited_again(kb, service):
    r = kb.add("lanzhou.txt", LANZHOU)
    assert r.doc_id in _cited(service, "兰州的居民医保断缴了怎么补缴?")
    kb.remove(r.doc_id)
    for q in ("兰州的居民医保断缴了怎么补缴?", "兰州2026年居民医保每人交多少钱?", "兰州医保微信公众号能补缴吗"):
        assert r.doc_id not in _cited(service, q)
    assert service.document(r.doc_id) is None
    assert r.doc_id not in [d["doc_id"] for d in service.documents()]


def test_removing_a_corpus_document_survives_a_rebuild(kb, service, kb_settings, embedder):
    kb.remove("000_991f4531c80f9026")
    assert "000_991f4531c80f9026" not in _cited(service, "居民医保和职工医保的区别是什么?")
    build_index(CORPUS, kb_settings.index_dir, settings=kb_settings, embedder=embedder, progress=False)
    data = store.load_index(kb_settings.index_dir)
    assert "000_991f4531c80f9026" not in data.documents and data.delta is None  # compacted, still removed


def test_uploads_and_hand_typed_metadata_survive_a_rebuild(kb, kb_settings, embedder):
    r = kb.add("lanzhou.txt", LANZHOU, {"expires": "2030-12-31", "publisher": "手工填写"})
    report = build_index(CORPUS, kb_settings.index_dir, settings=kb_settings, embedder=embedder, progress=False,
                         force=True)
    assert report.embedded == 0  # every chunk came from the embedding cache
    data = store.load_index(kb_settings.index_dir)
    assert r.doc_id in data.documents and data.delta is None
    entry = data.catalog["documents"][r.doc_id]
    assert entry["origin"] == "upload" and entry["metadata"]["publisher"] == "手工填写"
    assert entry["metadata"]["expires"] == "2030-12-31"


def test_expired_document_is_listed_but_not_used(kb, service):
    r = kb.add("lanzhou.txt", LANZHOU, {"expires": "2020-12-31"})
    listed = {d["doc_id"]: d for d in service.documents()}
    assert listed[r.doc_id]["status"] == "expired"
    assert r.doc_id not in _cited(service, "兰州的居民医保断缴了怎么补缴?")
    assert kb.documents()["documents"][-1]["status"] == "expired"


def test_bad_inputs_change_nothing(kb, kb_settings):
    version = store.read_manifest(kb_settings.index_dir)["kb_version"]
    bad = [("empty.txt", b"", {}), ("x.exe", b"MZ\x90\x00", {}), ("../up.txt", LANZHOU, {}),
           ("fake.pdf", LANZHOU, {}), ("binary.txt", bytes(range(256)) * 10, {}),
           ("ok.txt", LANZHOU, {"regions": "兰州"}), ("ok.txt", LANZHOU, {"expires": "明年"})]
    for name, data, meta in bad:
        with pytest.raises((UploadError, KnowledgeError)):
            kb.add(name, data, meta)
    with pytest.raises(KnowledgeError) as exc:
        kb.remove("up-0000000000000000")
    assert exc.value.status == 404
    assert store.read_manifest(kb_settings.index_dir)["kb_version"] == version


def test_concurrent_changes_are_serialised_without_losing_one(kb):
    docs = [LANZHOU.replace("兰州".encode(), city.encode()) for city in ("西宁", "银川", "拉萨", "呼和浩特")]
    results: list = []
    errors: list = []

    def add(i: int) -> None:
        try:
            results.append(kb.add(f"city{i}.txt", docs[i]))
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(i,)) for i in range(len(docs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(int(r.version) for r in results) == list(range(min(int(r.version) for r in results),
                                                                 min(int(r.version) for r in results) + 4))
    listed = {d["doc_id"] for d in kb.documents()["documents"]}
    assert {r.doc_id for r in results} <= listed


def test_a_failure_before_publishing_leaves_the_previous_version(kb, kb_settings, monkeypatch):
    before = os.readlink(kb_settings.index_dir)

    def crash(*args, **kwargs):
        raise RuntimeError("power cut")

    monkeypatch.setattr(store, "publish", crash)
    with pytest.raises(RuntimeError):
        kb.add("lanzhou.txt", LANZHOU)
    monkeypatch.undo()
    assert os.readlink(kb_settings.index_dir) == before
    store.load_index(kb_settings.index_dir)  # still consistent
    assert kb.add("lanzhou.txt", LANZHOU).created  # and the next change works (the lock was released)


def test_kill_9_during_a_change_leaves_a_consistent_index(kb_settings, tmp_path):
    env = {**os.environ, "YIBAO_INDEX_DIR": str(kb_settings.index_dir), "YIBAO_KB_DIR": str(kb_settings.kb_dir),
           "YIBAO_CACHE_DIR": str(tmp_path / "fresh-cache")}  # a cold cache: the change takes long enough
    doc = tmp_path / "long.txt"
    doc.write_bytes(LANZHOU + "\n".join(f"第{i}条:补缴材料包括身份证、社保卡和户口簿,第{i}项规定。" for i in range(400))
                    .encode())
    before = os.readlink(kb_settings.index_dir)
    proc = subprocess.Popen([sys.executable, "-m", "ingest", "add", str(doc)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    time.sleep(6)  # the model is loaded and the change is under way
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    now = os.readlink(kb_settings.index_dir)
    data = store.load_index(kb_settings.index_dir)  # loads and verifies, whichever version it is
    assert now == before or "long.txt" in json.dumps(data.catalog, ensure_ascii=False)
    # The next change (another process) is not blocked by the killed one's lock.
    done = subprocess.run([sys.executable, "-m", "ingest", "add", str(doc)], env={**env, "YIBAO_CACHE_DIR":
                          str(kb_settings.cache_dir)}, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "long.txt" in json.dumps(read_catalog(Path(os.path.realpath(kb_settings.index_dir))), ensure_ascii=False)


def test_cli_add_list_remove(kb_settings, tmp_path):
    env = {**os.environ, "YIBAO_INDEX_DIR": str(kb_settings.index_dir), "YIBAO_KB_DIR": str(kb_settings.kb_dir),
           "YIBAO_CACHE_DIR": str(kb_settings.cache_dir)}
    doc = tmp_path / "兰州.txt"
    doc.write_bytes(LANZHOU)

    def run(*args):
        return subprocess.run([sys.executable, "-m", "ingest", *args], env=env, capture_output=True, text=True,
                              timeout=300)

    added = run("add", str(doc), "--metadata", '{"publisher": "兰州市医疗保障局"}')
    assert added.returncode == 0, added.stderr
    doc_id = added.stdout.split()[1]
    listing = json.loads(run("list", "--json").stdout)
    entry = next(d for d in listing["documents"] if d["doc_id"] == doc_id)
    assert entry["origin"] == "upload" and entry["metadata"]["publisher"] == "兰州市医疗保障局"
    assert run("add", str(doc), "--metadata", "[1]").returncode == 1
    removed = run("remove", doc_id)
    assert removed.returncode == 0 and doc_id not in run("list").stdout
    missing = run("remove", doc_id)
    assert missing.returncode == 1 and "Nothing was changed" in missing.stderr


LANZHOU_RULE = {"id": "lanzhou-resident-personal-2026", "kind": "resident_premium", "regions": ["兰州"],
                "insurance_type": "居民", "condition": "2026年度兰州市城乡居民医保个人缴费标准",
                "when": {"year": 2026}, "effect": {"personal": 380},
                "quote": "2026年度兰州市城乡居民医保个人缴费标准为每人每年380元"}


def test_a_city_rule_uploaded_as_data_is_used_and_cited_then_leaves_with_its_document(kb, service):
    question = "兰州2026年城乡居民医保一家三口个人一共交多少钱"
    before = service.ask(question)
    assert before.calculation is None or before.calculation.result != 1140  # no 兰州 standard yet

    r = kb.add("lanzhou.txt", LANZHOU, {"rules": [LANZHOU_RULE]})
    ans = service.ask(question)
    assert ans.calculation is not None and ans.calculation.result == 1140  # 3 × 380, the uploaded rule
    assert r.doc_id in [c.doc_id for c in ans.citations]
    cite = next(c for c in ans.citations if c.doc_id == r.doc_id)
    assert "380元" in cite.text

    other = service.ask("嘉峪关2026年城乡居民医保一家三口个人一共交多少钱")  # another city: not 兰州's rule
    assert r.doc_id not in [c.doc_id for c in other.citations]

    kb.remove(r.doc_id)
    gone = service.ask(question)
    assert r.doc_id not in [c.doc_id for c in gone.citations]
    assert gone.calculation is None or gone.calculation.result != 1140


def test_a_rule_whose_quote_is_not_in_the_document_is_refused(kb):
    bad = {**LANZHOU_RULE, "quote": "个人缴费标准为每人每年999元"}
    with pytest.raises(KnowledgeError) as err:
        kb.add("lanzhou.txt", LANZHOU, {"rules": [bad]})
    assert err.value.status == 422 and err.value.code == "rule_quote_missing"
    with pytest.raises(KnowledgeError) as err:
        kb.add("lanzhou.txt", LANZHOU, {"rules": [{**LANZHOU_RULE, "kind": "no_such_kind"}]})
    assert err.value.status == 422 and err.value.code == "bad_rules"
    assert [d for d in kb.documents()["documents"] if d["origin"] == "upload"] == []  # nothing was added
