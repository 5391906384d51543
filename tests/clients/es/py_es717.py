#!/usr/bin/python3
"""python3-elasticsearch 7.17 against the fake: the product check passes,
info() reports the persona, helpers.bulk of 10,000 documents is accepted,
count and search return the right numbers, and a product check against a
persona without the header (6.8) behaves as the client expects.

usage: py_es717.py   (EFKSIM_BUILD_DIR points at the build tree)
"""
import os
import subprocess
import sys
import time

import elasticsearch
from elasticsearch import Elasticsearch, helpers

BIN = os.path.join(os.environ["EFKSIM_BUILD_DIR"], "bin", "es_testserver")
failures = []


def check(name, got, want):
    if got != want:
        failures.append(name)
        print(f"FAIL {name}: got {got!r}, want {want!r}")


def start(conf):
    p = subprocess.Popen([BIN, "-c", conf], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         text=True)
    url = None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        line = p.stdout.readline()
        if not line:
            break
        if line.startswith("EFKSIM_ES_URL="):
            url = line.strip().split("=", 1)[1]
        if line.strip() == "ready":
            return p, url
    p.kill()
    sys.exit("es_testserver did not start")


def stop(p):
    p.stdin.close()
    check("server exit status", p.wait(timeout=10), 0)


check("client version", elasticsearch.__version__[:2], (7, 17))

proc, url = start('{"version":"7.17"}')
try:
    es = Elasticsearch([url])
    info = es.info()
    check("info number", info["version"]["number"], "7.17.25")
    check("info tagline", info["tagline"], "You Know, for Search")
    check("product verified", es.transport._verified_elasticsearch, True)

    actions = ({"_index": "logs-app", "_source": {"message": f"efk:app:{i} line {i}",
                                                  "level": "error" if i % 10 == 0 else "info",
                                                  "n": i}}
               for i in range(1, 10001))
    ok, errors = helpers.bulk(es, actions, chunk_size=1000)
    check("bulk ok", ok, 10000)
    check("bulk errors", errors, [])
    es.indices.refresh(index="logs-app")
    check("count", es.count(index="logs-app")["count"], 10000)
    check("count query", es.count(index="logs-app", body={"query": {"term": {"level": "error"}}})["count"], 1000)
    r = es.search(index="logs-app", query={"bool": {"filter": [{"range": {"n": {"gte": 10, "lt": 20}}}]}},
                  sort=[{"n": {"order": "desc"}}], size=3)
    check("search total", r["hits"]["total"], {"value": 10, "relation": "eq"})
    check("search sorted", [h["_source"]["n"] for h in r["hits"]["hits"]], [19, 18, 17])
    r = es.search(index="logs-app", query={"match": {"message": "line 4242"}}, size=1)
    check("search match", r["hits"]["total"]["value"] >= 1, True)
    # a bulk with one item the server refuses: the helper raises BulkIndexError
    try:
        helpers.bulk(es, [{"_index": "Bad-Index", "_source": {"a": 1}}])
        check("bulk error raised", False, True)
    except helpers.BulkIndexError as e:
        check("bulk error type", e.errors[0]["index"]["error"]["type"], "invalid_index_name_exception")
    # single-document APIs
    r = es.index(index="one", id="1", document={"a": 1})
    check("index result", r["result"], "created")
    check("get", es.get(index="one", id="1")["_source"], {"a": 1})
    check("exists", es.indices.exists(index="one"), True)
    check("not exists", es.indices.exists(index="two"), False)
    check("health", es.cluster.health(wait_for_status="yellow")["status"], "yellow")
finally:
    stop(proc)

# A 6.8 persona (no header, tagline and build_flavor right): the 7.17 client
# accepts it through the 6.x rules.
proc, url = start('{"version":"6.8"}')
try:
    es = Elasticsearch([url])
    check("6.8 info", es.info()["version"]["number"], "6.8.23")
    check("6.8 verified", es.transport._verified_elasticsearch, True)
finally:
    stop(proc)

# A 2.4 persona is older than any the 7.14+ client supports: it refuses it.
proc, url = start('{"version":"2.4"}')
try:
    es = Elasticsearch([url])
    try:
        es.info()
        check("2.4 refused", False, True)
    except elasticsearch.exceptions.UnsupportedProductError:
        pass
finally:
    stop(proc)

print(f"{0 if failures else 1} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
