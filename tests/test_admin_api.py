"""The knowledge-base admin API over HTTP: token, upload → ask → cited, replace, delete, bad input."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ingest import store
from ingest.build import build_index
from ingest.settings import Settings
from qa.service import QAService
from tests.test_kb import LANZHOU, LANZHOU_V2
from tests.test_parse import make_docx, make_image_pdf, make_pdf

pytestmark = pytest.mark.slow

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture()
def settings(tmp_path: Path, test_settings: Settings, embedder) -> Settings:
    s = test_settings.model_copy(update={"index_dir": tmp_path / "index", "kb_dir": tmp_path / "kb",
                                         "admin_token": TOKEN, "max_upload_bytes": 200_000})
    build_index(CORPUS, s.index_dir, settings=s, embedder=embedder, progress=False)
    return s


@pytest.fixture()
def client(settings: Settings, embedder):
    service = QAService.load(settings, settings.index_dir, embedder=embedder)
    with TestClient(create_app(settings, service)) as c:
        yield c


def upload(client, name: str, data: bytes, metadata: str | None = None, headers=AUTH, method="post", path=None):
    fields = {"metadata": metadata} if metadata is not None else None
    send = getattr(client, method)
    return send(path or "/api/documents", files={"file": (name, data, "application/octet-stream")}, data=fields,
                headers=headers)


def cited(client, question: str) -> list[str]:
    return [c["doc_id"] for c in client.post("/api/ask", json={"question": question}).json()["citations"]]


def test_admin_api_is_off_without_a_token(test_settings: Settings, settings: Settings, embedder):
    off = settings.model_copy(update={"admin_token": None})
    service = QAService.load(off, off.index_dir, embedder=embedder)
    with TestClient(create_app(off, service)) as c:
        r = upload(c, "lz.txt", LANZHOU)
        assert r.status_code == 403 and "YIBAO_ADMIN_TOKEN" in r.json()["message"]
        assert c.delete("/api/documents/000_991f4531c80f9026", headers=AUTH).status_code == 403


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN},
                                     {"Authorization": f"Basic {TOKEN}"}])
def test_missing_or_wrong_token_is_401(client, headers):
    r = upload(client, "lz.txt", LANZHOU, headers=headers)
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    assert "lanzhou" not in str(client.get("/api/documents").json()).lower()


def test_upload_ask_cite_replace_delete(client):
    r = upload(client, "兰州补缴办法.txt", LANZHOU, '{"publisher": "兰州市医疗保障局"}')
    assert r.status_code == 201
    body = r.json()
    assert set(body) >= {"doc_id", "title", "chunks", "metadata", "version"}
    doc_id = body["doc_id"]
    assert body["metadata"]["publisher"] == "兰州市医疗保障局" and body["chunks"] >= 2
    listing = client.get("/api/documents").json()
    assert listing["version"] == body["version"]
    entry = next(d for d in listing["documents"] if d["doc_id"] == doc_id)
    assert entry["origin"] == "upload" and entry["status"] == "active"
    assert next(d for d in listing["documents"] if d["doc_id"].startswith("000"))["origin"] == "corpus"
    assert cited(client, "兰州的居民医保断缴了怎么补缴?")[0] == doc_id

    again = upload(client, "same-content.txt", LANZHOU)
    assert again.status_code == 200 and again.json()["doc_id"] == doc_id and not again.json()["created"]

    replaced = upload(client, "v2.txt", LANZHOU_V2, method="put", path=f"/api/documents/{doc_id}")
    assert replaced.status_code == 200 and replaced.json()["doc_id"] == doc_id
    answer = client.post("/api/ask", json={"question": "兰州2026年居民医保个人每年交多少钱?"}).json()
    assert "420元" in answer["answer"] and "380元" not in answer["answer"]

    gone = client.delete(f"/api/documents/{doc_id}", headers=AUTH)
    assert gone.status_code == 200 and gone.json()["removed"]
    assert doc_id not in cited(client, "兰州的居民医保断缴了怎么补缴?")
    assert client.get(f"/api/documents/{doc_id}").status_code == 404
    assert client.delete(f"/api/documents/{doc_id}", headers=AUTH).status_code == 404


def test_pdf_and_docx_uploads_are_read(client):
    pdf = make_pdf([["兰州市城乡居民医保补缴通知", "断缴不超过6个月的可以补缴,补缴后第二个月起恢复待遇。",
                     "补缴需要携带身份证和社保卡到医保经办大厅办理。"]])
    r = upload(client, "通知.pdf", pdf)
    assert r.status_code == 201, r.json()
    r = upload(client, "指南.docx", make_docx())
    assert r.status_code == 201, r.json()


def _bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", b"<Types/>")
        zf.writestr("word/document.xml", b"<w:document/>")
        zf.writestr("word/media/filler.bin", bytes(8 * 1024 * 1024))
    return buf.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "metadata", "status"),
    [
        ("empty.txt", b"", None, 422),
        ("binary.txt", bytes(range(256)) * 20, None, 422),
        ("setup.exe", b"MZ\x90\x00" * 10, None, 415),
        ("looks.pdf", LANZHOU, None, 415),          # a text file named .pdf
        ("broken.pdf", b"%PDF-1.4\n1 0 obj <<>> endobj trailer", None, 422),
        ("broken.docx", b"PK\x03\x04not really a zip", None, 422),
        ("bomb.docx", _bomb(), None, 422),
        ("scan.pdf", make_image_pdf(), None, 422),
        ("../../etc/passwd.txt", LANZHOU, None, 422),
        ("a/b.txt", LANZHOU, None, 422),
        ("ok.txt", LANZHOU, "{not json", 422),
        ("ok.txt", LANZHOU, '["a list"]', 422),
        ("ok.txt", LANZHOU, '{"regions": "兰州"}', 422),
        ("ok.txt", LANZHOU, '{"date": "昨天"}', 422),
        ("ok.txt", LANZHOU, '{"source_url": "javascript:alert(1)"}', 422),
        ("big.txt", LANZHOU * 500, None, 413),      # over max_upload_bytes (200 KB here)
        ("huge.txt", LANZHOU * 2000, None, 413),    # over the request body limit: refused before reading
    ],
)
def test_bad_uploads_get_a_clear_4xx_and_change_nothing(client, settings, name, data, metadata, status):
    version = store.read_manifest(settings.index_dir)["kb_version"]
    r = upload(client, name, data, metadata)
    assert r.status_code == status, r.json()
    body = r.json()
    assert body["message_zh"] and body["message_en"] and "<" not in body["message"]
    assert store.read_manifest(settings.index_dir)["kb_version"] == version


def test_form_problems(client):
    assert client.post("/api/documents", json={"file": "x"}, headers=AUTH).status_code == 415
    r = client.post("/api/documents", data={"metadata": "{}"}, files={"other": ("x.txt", b"x")}, headers=AUTH)
    assert r.status_code == 422
    r = client.put("/api/documents/up-0000000000000000", files={"file": ("x.txt", LANZHOU)}, headers=AUTH)
    assert r.status_code == 404
