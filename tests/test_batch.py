"""Month-end intake: `POST /v1/invoices:batch` (NDJSON or a JSON array) and `aiguillage submit FILES… --jobs N`."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from aiguillage.store.database import make_engine, session_factory
from aiguillage.store.models import InvoiceRecord
from aiguillage.testing.cluster import Cluster, invoice_document

pytest_plugins = ["aiguillage.api.testing"]


def _item(number: str, key: str, **document) -> dict:  # noqa: ANN003
    return {"idempotency_key": key, "invoice": json.loads(invoice_document(number, **document))}


def _count(app, tenant_id) -> int:  # noqa: ANN001
    with session_factory(app.extensions["aiguillage.database"].engine)() as session:
        return session.scalar(select(func.count()).select_from(InvoiceRecord).where(InvoiceRecord.tenant_id == tenant_id))


def test_ndjson_batch_answers_each_item_and_a_repeat_stores_nothing_twice(api_app, api_client, api_keys):
    key = api_keys("erp")
    lines = [json.dumps(_item(f"B-{i}", f"b-{i}", charge=20 + i)) for i in range(5)]
    lines.insert(2, "{not json")
    lines.insert(4, json.dumps({"idempotency_key": "b-bad", "document": "<Invoice>broken"}))
    body = "\n".join(lines).encode()
    headers = {**key.headers, "Content-Type": "application/x-ndjson"}
    response = api_client.post("/v1/invoices:batch", data=body, headers=headers)
    assert response.status_code == 200, response.get_json()
    result = response.get_json()
    assert result["summary"] == {"items": 7, "stored": 5, "repeated": 0, "failed": 2}
    statuses = [(r["index"], r["status"]) for r in result["items"]]
    assert statuses == [(0, 202), (1, 202), (2, 400), (3, 202), (4, 400), (5, 202), (6, 202)]
    assert "line 3" in result["items"][2]["problem"]["detail"]
    assert result["items"][4]["problem"]["type"].startswith("urn:aiguillage:problem:unreadable-document")
    assert _count(api_app, key.tenant_id) == 5

    again = api_client.post("/v1/invoices:batch", data=body, headers=headers).get_json()
    assert again["summary"] == {"items": 7, "stored": 0, "repeated": 5, "failed": 2}
    # Each stored item gets its first answer again, marked replayed; the unreadable ones are refused again.
    assert again["items"] == [{**r, "replayed": True} if r["status"] == 202 else r for r in result["items"]]
    assert [r["replayed"] for r in result["items"]] == [False, False, None, False, None, False, False]
    assert _count(api_app, key.tenant_id) == 5


def test_json_array_batch_and_its_refusals(api_client, api_keys):
    key = api_keys("erp")
    headers = {**key.headers, "Content-Type": "application/json"}
    items = [_item("A-1", "a-1"), _item("A-2", "a-2", charge=33),
             {"idempotency_key": "a-1", "invoice": json.loads(invoice_document("A-9"))},  # key reused: 409
             {"idempotency_key": "a-3"}]  # no document: 400
    result = api_client.post("/v1/invoices:batch", json=items, headers=headers).get_json()
    assert [r["status"] for r in result["items"]] == [202, 202, 409, 400]
    assert result["items"][2]["problem"]["existing"] == result["items"][0]["id"]
    assert "exactly one of invoice, document, document_base64" in result["items"][3]["problem"]["detail"]
    assert api_client.post("/v1/invoices:batch", json={"not": "a list"}, headers=headers).status_code == 400
    assert api_client.post("/v1/invoices:batch", data=b"x", headers={**key.headers, "Content-Type": "text/plain"}
                           ).status_code == 415
    assert api_client.post("/v1/invoices:batch", json=[], headers=headers).status_code == 400
    reader = api_keys("analyst", key.tenant_name)
    assert api_client.post("/v1/invoices:batch", json=items[:1], headers={**reader.headers}).status_code == 403


def test_batch_is_in_the_openapi_document(api_client):
    document = api_client.get("/openapi.json").get_json()
    operation = document["paths"]["/v1/invoices:batch"]["post"]
    assert set(operation["requestBody"]["content"]) == {"application/json", "application/x-ndjson"}
    assert "BatchResult" in json.dumps(operation["responses"]["200"])


def _invoice_files(tmp_path, stem: str, prefix: str, count: int, charge: int) -> tuple[list[str], object]:  # noqa: ANN001
    """`count` invoice files (`{stem}-{i}.json`, numbers `{prefix}-{i}`, charges from `charge` on) and an unreadable one."""
    files = []
    for index in range(count):
        path = tmp_path / f"{stem}-{index}.json"
        path.write_bytes(invoice_document(f"{prefix}-{index}", charge=charge + index))
        files.append(str(path))
    bad = tmp_path / "bad.xml"
    bad.write_text("<Invoice><unclosed></Invoice>")
    return files, bad


@pytest.fixture
def served(tmp_path):
    cluster = Cluster(f"sqlite:///{tmp_path / 'submit.db'}", tmp_path)
    cluster.setup()
    server = cluster.serve(workers=1)
    try:
        yield cluster, server
    finally:
        cluster.stop_all()


def test_submit_command_posts_files_in_parallel_and_a_rerun_is_a_repeat(served, tmp_path):
    cluster, server = served
    files, bad = _invoice_files(tmp_path, "inv", "F", 6, charge=40)
    command = [sys.executable, "-m", "aiguillage", "submit", *files, "--jobs", "3", "--url", server.base,
               "--key", cluster.key]
    env = cluster.environment()
    first = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert first.returncode == 0, first.stdout + first.stderr
    lines = first.stdout.strip().splitlines()
    assert len(lines) == 7 and all(": 202 stored " in line for line in lines[:6])
    assert lines[-1].startswith("aiguillage submit: 6 file(s)") and "6 stored, 0 already stored, 0 failed" in lines[-1]

    again = subprocess.run([*command[:4], str(bad), *command[4:]], capture_output=True, text=True, env=env,
                           timeout=120)
    assert again.returncode == 1
    lines = again.stdout.strip().splitlines()
    assert sum(": 202 already stored " in line for line in lines) == 6
    assert any(line.startswith(f"{bad}: 400 not stored: ") and "line 1" in line for line in lines)
    assert lines[-1].endswith("0 stored, 6 already stored, 1 failed")
    engine = make_engine(cluster.url)
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(InvoiceRecord)) == 6
    engine.dispose()


def test_submit_command_in_batches_stores_once_and_single_posts_then_repeat_it(served, tmp_path):
    """`--batch N`: N files per `POST /v1/invoices:batch`; the keys are the file keys of single posts."""
    cluster, server = served
    files, bad = _invoice_files(tmp_path, "batch", "B", 7, charge=60)
    base = [sys.executable, "-m", "aiguillage", "submit", "--url", server.base, "--key", cluster.key]
    env = cluster.environment()
    first = subprocess.run([*base, *files, str(bad), "--batch", "3", "--jobs", "2"], capture_output=True, text=True,
                           env=env, timeout=120)
    assert first.returncode == 1, first.stdout + first.stderr
    lines = first.stdout.strip().splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == [*files, str(bad)]  # in the order given
    assert all(": 202 stored " in line for line in lines[:7])
    assert lines[7].startswith(f"{bad}: 400 not stored: ")
    assert lines[-1].endswith("7 stored, 0 already stored, 1 failed")

    again = subprocess.run([*base, *files], capture_output=True, text=True, env=env, timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr
    assert sum(": 202 already stored " in line for line in again.stdout.splitlines()) == 7
    engine = make_engine(cluster.url)
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(InvoiceRecord)) == 7
        assert "received" not in set(session.scalars(select(InvoiceRecord.status)))  # decided in the request
    engine.dispose()
