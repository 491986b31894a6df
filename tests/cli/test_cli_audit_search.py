"""``strongroom audit search``: filters, value search through ``sys/audit-hash``, rotated and gzip'd files, JSON
output and malformed lines on a log written by a real two-worker node; the filter, redaction and reader logic
without a server."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import shutil
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import Result
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.audit.conftest import WORKERS, AuditedNode
from tests.cli.cli_harness import Cli, base_env, closed_port
from tests.integration.process_harness import Api, enable_kv2, initialize, supervisor_pid, unseal, wait_until
from tests.support.server import sqlite_server_process

from strongroom.cli.audit_entry import REDACTED, raw_strings, redact, strings
from strongroom.cli.audit_filters import Criteria, Needle, build_criteria, parse_status, parse_time
from strongroom.core.audit.logfile import Line, Malformed, read_log

CANARY = "canary-7f3a9c-search-me"
OTHER = "unrelated-value-41d2"
H = "hmac-sha256:"
NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def hmac_of(char: str) -> str:
    return H + char * 64


# -- a log written by a real server -------------------------------------------------------------------


@dataclass
class Scenario:
    """A node with three file devices, and what was done through it."""

    node: AuditedNode
    directory: Path
    log: Path  # file/: defaults (rotated: log_1_gz holds the first part)
    log_1_gz: Path
    raw_log: Path  # raw/: log_raw=true
    clear_log: Path  # clear/: hmac_accessor=false
    accessor: str  # of the reader token
    midpoint: dt.datetime  # between the first and the second batch of requests

    def cli(self, *args: str, input: str | None = None, address: str | None = None) -> Result:
        env = base_env(self.directory)
        env["STRONGROOM_ADDR"] = address or self.node.server.address
        env["STRONGROOM_TOKEN"] = self.node.root
        return Cli(env)("audit", "search", *args, input=input)

    def search_json(self, *args: str, address: str | None = None) -> list[dict[str, Any]]:
        result = self.cli("-format=json", *args, address=address)
        assert result.exit_code == 0, result.output
        return [json.loads(line) for line in result.stdout.splitlines()]

    def files(self) -> tuple[str, str]:
        return str(self.log), str(self.log_1_gz)


def file_lines(*paths: Path) -> list[bytes]:
    out: list[bytes] = []
    for path in paths:
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        out += data.splitlines()
    return out


def chains_in(path: Path) -> set[str]:
    return {orjson.loads(line)["chain"]["id"] for line in path.read_bytes().splitlines()} if path.exists() else set()


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    directory = tmp_path_factory.mktemp("search")
    server = sqlite_server_process(directory, workers=WORKERS)
    server.start()
    try:
        api = Api(server.address)
        keys = initialize(api, shares=1, threshold=1)
        unseal(api, keys, threshold=1)
        api.token = keys.root_token
        enable_kv2(api)
        node = AuditedNode(server, api, directory)
        log, raw_log, clear_log = directory / "audit.log", directory / "raw.log", directory / "clear.log"
        assert node.enable("file", "file", file_path=str(log), checkpoint_entries="8").status_code == 204
        assert node.enable("raw", "file", file_path=str(raw_log), log_raw="true").status_code == 204
        assert node.enable("clear", "file", file_path=str(clear_log), hmac_accessor="false").status_code == 204

        policy = 'path "secret/data/app" { capabilities = ["read"] }'
        assert node.request("PUT", "sys/policies/acl/reader", json={"policy": policy}).status_code == 204
        created = node.request("POST", "auth/token/create", json={"policies": ["reader"], "meta": {"team": "x"}})
        reader = created.json()["auth"]
        assert node.request("POST", "secret/data/app", json={"data": {"password": CANARY}}).status_code == 200
        assert node.request("GET", "secret/data/app", token=reader["client_token"]).status_code == 200
        assert node.request("GET", "secret/data/other", token=reader["client_token"]).status_code == 403
        assert node.request("GET", "secret/metadata/", params={"list": "true"}).status_code == 200

        time.sleep(0.01)
        midpoint = dt.datetime.now(dt.UTC)
        time.sleep(0.01)

        # Rotation: rename, SIGHUP, and requests until both workers write to the new file.
        first_chains = chains_in(log)
        log.rename(directory / "audit.log.1")
        os.kill(supervisor_pid(server), signal.SIGHUP)

        def both_workers_moved() -> bool:
            node.request("POST", "secret/data/later", json={"data": {"note": OTHER}})
            return chains_in(log) >= first_chains

        wait_until(both_workers_moved, 20, "both workers to reopen the audit file")
        assert node.request("GET", "secret/data/app", token=reader["client_token"]).status_code == 200

        log_1_gz = directory / "audit.log.1.gz"
        with (directory / "audit.log.1").open("rb") as plain, gzip.open(log_1_gz, "wb") as packed:
            shutil.copyfileobj(plain, packed)
        (directory / "audit.log.1").unlink()
        yield Scenario(node, directory, log, log_1_gz, raw_log, clear_log, reader["accessor"], midpoint)
    finally:
        server.stop()


def rows(result: Result) -> list[list[str]]:
    """The table's rows (after the header and rule), split on the four-space gaps."""
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["Time", "Type", "Operation", "Path", "Status", "Remote", "Address", "Accessor"]
    return [[cell.strip() for cell in line.split("    ") if cell.strip()] for line in lines[2:]]


def paths_of(entries: list[dict[str, Any]]) -> set[str]:
    return {e["request"]["path"] for e in entries}


def all_entries(*paths: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in file_lines(*paths)]


# -- the table and each filter, on the real log ---------------------------------------------------------


def test_the_table_lists_every_request_and_response_of_a_rotated_gzipped_log_in_time_order(scenario: Scenario) -> None:
    forward = scenario.cli(str(scenario.log_1_gz), str(scenario.log))
    backward = scenario.cli(str(scenario.log), str(scenario.log_1_gz))
    table = rows(forward)
    assert forward.stdout == backward.stdout

    logged = [e for e in all_entries(scenario.log_1_gz, scenario.log) if e["type"] != "checkpoint"]
    assert len(table) == len(logged)
    assert [r[0] for r in table] == sorted(r[0] for r in table)
    assert table[0][1:4] == ["response", "update", "sys/audit/file"]  # from the compressed, older file
    last_secret = [r for r in table if r[3].startswith("secret/")][-1]
    assert last_secret[1:4] == ["response", "read", "secret/data/app"]  # from the file written after rotation
    denied = [r for r in table if r[3] == "secret/data/other"]
    assert [r[1] for r in denied] == ["request", "response"]
    assert denied[0][4] == "-"  # a request has no status yet
    assert denied[1][4] == "403"
    assert {r[5] for r in table} == {"127.0.0.1"}
    assert all(r[6].startswith(H) for r in table)
    assert CANARY not in forward.output


def test_path_prefix_operation_and_type_filters_select_what_they_name(scenario: Scenario) -> None:
    app = scenario.search_json("-path", "secret/data/app", *scenario.files())
    assert paths_of(app) == {"secret/data/app"}
    assert len(app) == 6  # the write and two reads, each a request and a response

    leading_slash = scenario.search_json("-path=/secret/data/app", *scenario.files())
    assert leading_slash == app

    reads = scenario.search_json("-path", "secret/", "-operation", "read", *scenario.files())
    assert paths_of(reads) == {"secret/data/app", "secret/data/other"}
    assert {e["request"]["operation"] for e in reads} == {"read"}

    lists_or_reads = scenario.search_json("-operation", "list,read", *scenario.files())
    assert {e["request"]["operation"] for e in lists_or_reads} == {"list", "read"}

    responses = scenario.search_json("-type", "response", "-path", "secret/metadata/", *scenario.files())
    assert [(e["type"], e["request"]["operation"]) for e in responses] == [("response", "list")]


def test_status_and_error_filters_find_the_denied_read(scenario: Scenario) -> None:
    denied = scenario.search_json("-status", "403", *scenario.files())
    assert [(e["type"], e["request"]["path"]) for e in denied] == [("response", "secret/data/other")]

    failures = scenario.search_json("-status", "4xx", "-status", "5xx", *scenario.files())
    assert failures == denied

    successes = scenario.search_json("-status", "2xx", *scenario.files())
    assert successes
    assert "secret/data/other" not in paths_of(successes)
    assert all(e["type"] == "response" for e in successes)

    errors = scenario.search_json("-error", "PERMISSION DENIED", *scenario.files())
    assert paths_of(errors) == {"secret/data/other"}
    assert all("permission denied" in e["error"] for e in errors)
    assert scenario.search_json("-error=", *scenario.files()) == errors  # empty: any entry with an error


def test_a_request_id_finds_the_request_and_its_response(scenario: Scenario) -> None:
    denied = scenario.search_json("-status", "403", *scenario.files())
    request_id = denied[0]["request"]["id"]

    pair = scenario.search_json("-request-id", request_id, *scenario.files())
    assert [e["type"] for e in pair] == ["request", "response"]
    assert {e["request"]["id"] for e in pair} == {request_id}


def test_remote_address_filters_take_addresses_and_cidr_blocks(scenario: Scenario) -> None:
    everything = scenario.search_json(*scenario.files())
    assert scenario.search_json("-remote-address", "127.0.0.1", *scenario.files()) == everything
    assert scenario.search_json("-remote-address", "127.0.0.0/8", *scenario.files()) == everything
    assert scenario.search_json("-remote-address", "::ffff:127.0.0.1", *scenario.files()) == everything

    elsewhere = scenario.cli("-remote-address", "10.0.0.0/8", *scenario.files())
    assert elsewhere.exit_code == 0
    assert elsewhere.stdout == ""
    assert "No entries match." in elsewhere.stderr


def test_time_filters_take_rfc3339_times_and_durations_before_now(scenario: Scenario) -> None:
    midpoint = scenario.midpoint.isoformat()
    everything = scenario.search_json(*scenario.files())

    later = scenario.search_json("-since", midpoint, *scenario.files())
    earlier = scenario.search_json("-until", midpoint, *scenario.files())
    assert later
    assert earlier
    assert later + earlier == sorted(everything, key=lambda e: dt.datetime.fromisoformat(e["time"]) < scenario.midpoint)
    assert "secret/data/later" in paths_of(later)
    assert "secret/data/later" not in paths_of(earlier)
    assert "auth/token/create" in paths_of(earlier)
    assert all(dt.datetime.fromisoformat(e["time"]) >= scenario.midpoint for e in later)

    assert scenario.search_json("-since", "1h", *scenario.files()) == everything
    assert scenario.search_json("-until", "1h", *scenario.files()) == []
    assert scenario.search_json("-since", "2h", "-until", "1h", *scenario.files()) == []


def test_checkpoint_lines_are_shown_only_when_asked(scenario: Scenario) -> None:
    assert all(e["type"] != "checkpoint" for e in scenario.search_json(*scenario.files()))

    table = rows(scenario.cli("-checkpoints", *scenario.files()))
    marks = [r for r in table if r[1] == "checkpoint"]
    assert {r[2] for r in marks} >= {"open", "rotate", "periodic"}
    assert {r[3] for r in marks} == {"file/"}

    only = scenario.search_json("-type", "checkpoint", *scenario.files())
    assert only
    assert {e["type"] for e in only} == {"checkpoint"}


# -- accessors --------------------------------------------------------------------------------------


def reader_trail(entries: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["type"], e["request"]["path"]) for e in entries]


EXPECTED_READER_TRAIL = [
    ("response", "auth/token/create"),  # the answer that granted the token carries its accessor
    ("request", "secret/data/app"), ("response", "secret/data/app"),
    ("request", "secret/data/other"), ("response", "secret/data/other"),
    ("request", "secret/data/app"), ("response", "secret/data/app"),
]


def test_a_plaintext_accessor_finds_the_tokens_entries_through_the_hmac_the_server_computes(
        scenario: Scenario) -> None:
    found = scenario.search_json("-accessor", scenario.accessor, *scenario.files())
    assert reader_trail(found) == EXPECTED_READER_TRAIL
    hashed = scenario.node.audit_hash("file", scenario.accessor)
    assert all(hashed in json.dumps(e) for e in found)

    # The HMAC itself works without a server.
    offline = scenario.search_json("-accessor", hashed, *scenario.files(),
                                   address=f"http://127.0.0.1:{closed_port()}")
    assert offline == found


def test_accessors_logged_in_clear_are_matched_without_asking_the_server(scenario: Scenario) -> None:
    offline = f"http://127.0.0.1:{closed_port()}"
    found = scenario.search_json("-accessor", scenario.accessor, str(scenario.clear_log), address=offline)
    assert reader_trail(found) == EXPECTED_READER_TRAIL
    assert found[1]["auth"]["accessor"] == scenario.accessor

    table = rows(scenario.cli("-accessor", scenario.accessor, str(scenario.clear_log), address=offline))
    assert {r[6] for r in table[1:]} == {scenario.accessor}


def test_a_plaintext_accessor_against_hmacd_accessors_needs_the_server(scenario: Scenario) -> None:
    result = scenario.cli("-accessor", scenario.accessor, "-device=file", str(scenario.log),
                          address=f"http://127.0.0.1:{closed_port()}")
    assert result.exit_code == 2
    assert "Error hashing the accessor with audit device file/" in result.stderr
    assert result.stdout == ""


# -- values ------------------------------------------------------------------------------------------


def test_a_value_is_found_through_sys_audit_hash_and_never_printed(scenario: Scenario, tmp_path: Path) -> None:
    hashed = scenario.node.audit_hash("file", CANARY)
    result = scenario.cli("-format=json", "-path", "secret/", "-value", CANARY, *scenario.files())
    assert result.exit_code == 0, result.output
    printed = result.stdout.splitlines()
    found = [json.loads(line) for line in printed]
    assert [(e["type"], e["request"]["operation"], e["request"]["path"]) for e in found] == [
        ("request", "create", "secret/data/app"),
        ("response", "create", "secret/data/app"),  # the response entry repeats the request's data
        ("response", "read", "secret/data/app"),
        ("response", "read", "secret/data/app"),
    ]
    assert all(hashed in line for line in printed)
    logged = {line.decode() for line in file_lines(scenario.log_1_gz, scenario.log)}
    assert set(printed) <= logged  # each entry exactly as logged, one per line
    assert CANARY not in result.output

    value_file = tmp_path / "value"
    value_file.write_text(CANARY + "\n")
    assert scenario.search_json("-path=secret/", "-value-file", str(value_file), *scenario.files()) == found
    stdin = scenario.cli("-format=json", "-path=secret/", "-value", "-", *scenario.files(), input=CANARY + "\n")
    assert stdin.stdout == result.stdout
    assert scenario.search_json("-path=secret/", "-device=file", "-value", CANARY, *scenario.files()) == found

    assert paths_of(scenario.search_json("-value", OTHER, *scenario.files())) >= {"secret/data/later"}
    # Each lookup is on record: the sys/audit-hash requests carry the value (HMAC'd) too.
    assert "sys/audit-hash/file" in paths_of(scenario.search_json("-value", CANARY, *scenario.files()))
    assert scenario.search_json("-path=secret/", "-value", "never-written", *scenario.files()) == []


def test_a_value_logged_raw_is_found_but_printed_only_with_show_raw(scenario: Scenario) -> None:
    root = scenario.node.root
    result = scenario.cli("-format=json", "-path=secret/", "-value", CANARY, str(scenario.raw_log))
    assert result.exit_code == 0, result.output
    found = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(e["type"], e["request"]["path"]) for e in found] == [
        ("request", "secret/data/app"), ("response", "secret/data/app"),
        ("response", "secret/data/app"), ("response", "secret/data/app"),
    ]
    assert CANARY not in result.stdout
    assert root not in result.stdout  # log_raw writes client tokens in clear too
    assert found[0]["request"]["data"]["data"] == REDACTED
    assert found[0]["request"]["client_token"] == REDACTED
    assert found[0]["request"]["path"] == "secret/data/app"
    assert "-show-raw prints them" in result.stderr
    assert CANARY not in result.stderr

    for fmt in ("table", "yaml"):
        other = scenario.cli(f"-format={fmt}", "-value", CANARY, str(scenario.raw_log))
        assert other.exit_code == 0, other.output
        assert CANARY not in other.output
        assert root not in other.output

    shown = scenario.cli("-format=json", "-path=secret/", "-show-raw", "-value", CANARY, str(scenario.raw_log))
    assert shown.exit_code == 0
    assert CANARY in shown.stdout
    assert json.loads(shown.stdout.splitlines()[0])["request"]["data"]["data"] == {"password": CANARY}


def test_the_device_is_named_by_the_logs_checkpoints_or_must_be_given(scenario: Scenario) -> None:
    mixed = scenario.cli("-value", CANARY, str(scenario.log), str(scenario.raw_log))
    assert mixed.exit_code == 1
    assert "several devices (file/, raw/): pass -device" in mixed.stderr

    wrong = scenario.cli("-format=json", "-device", "raw", "-value", CANARY, str(scenario.log))
    assert wrong.exit_code == 0
    assert wrong.stdout == ""
    assert "WARNING! the log's checkpoints name file/, not raw/" in wrong.stderr

    unknown = scenario.cli("-device", "nowhere", "-value", CANARY, str(scenario.log))
    assert unknown.exit_code == 2
    assert "Error hashing the value with audit device nowhere/" in unknown.stderr
    assert CANARY not in unknown.output

    offline = scenario.cli("-value", CANARY, *scenario.files(), address=f"http://127.0.0.1:{closed_port()}")
    assert offline.exit_code == 2
    assert CANARY not in offline.output


def test_a_log_without_checkpoints_needs_the_device_named(scenario: Scenario, tmp_path: Path) -> None:
    unsigned = tmp_path / "part.log"
    unsigned.write_bytes(b"".join(line + b"\n" for line in file_lines(scenario.log_1_gz)
                                  if b'"type":"checkpoint"' not in line))
    result = scenario.cli("-value", CANARY, str(unsigned))
    assert result.exit_code == 1
    assert "the log names no audit device (it has no checkpoint line): pass -device" in result.stderr

    named = scenario.search_json("-device", "file", "-path=secret/", "-value", CANARY, str(unsigned))
    assert {e["request"]["path"] for e in named} == {"secret/data/app"}


# -- files and lines that are not right ----------------------------------------------------------------


def test_malformed_lines_are_located_skipped_and_fail_the_run_unless_accepted(scenario: Scenario,
                                                                              tmp_path: Path) -> None:
    copy = tmp_path / "audit.log"
    good = scenario.log.read_bytes()
    lines = good.splitlines(keepends=True)
    copy.write_bytes(b"".join([*lines[:2], b"garbage with secret-in-garbage\n", *lines[2:], b'{"type":"requ']))
    damaged = tmp_path / "audit.log.1.gz"
    damaged.write_bytes(scenario.log_1_gz.read_bytes()[:-40])

    result = scenario.cli("-format=json", str(copy), str(damaged))
    assert result.exit_code == 1
    assert f"malformed: {copy}:3: not an audit entry" in result.stderr
    assert f"malformed: {copy}:{len(lines) + 2}: the file ends inside a line" in result.stderr
    assert f"malformed: {damaged}:" in result.stderr
    assert "the compressed file is damaged or ends early" in result.stderr
    assert "Error: 3 malformed line(s)" in result.stderr
    assert "secret-in-garbage" not in result.output
    found = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(found) > len([e for e in all_entries(scenario.log) if e["type"] != "checkpoint"])

    accepted = scenario.cli("-format=json", "-skip-malformed", str(copy), str(damaged))
    assert accepted.exit_code == 0
    assert accepted.stdout == result.stdout
    assert "malformed:" in accepted.stderr


def test_unreadable_files_are_named(scenario: Scenario, tmp_path: Path) -> None:
    missing = scenario.cli(str(scenario.log), str(tmp_path / "absent.log"))
    assert missing.exit_code == 1
    assert f"cannot read {tmp_path / 'absent.log'}: No such file or directory" in missing.stderr
    assert missing.stdout == ""

    directory = scenario.cli(str(tmp_path))
    assert directory.exit_code == 1
    assert "it is a directory" in directory.stderr


@pytest.mark.parametrize(("flags", "message"), [
    (["-status", "99"], "-status must be an HTTP status"),
    (["-since", "yesterday"], "-since must be an RFC 3339 time"),
    (["-until", "2026-03-01T10:00:00"], "has no time zone"),
    (["-since", "1h", "-until", "2h"], "-since must be before -until"),
    (["-operation", "reed"], "-operation must be one of"),
    (["-type", "answer"], "-type must be one of"),
    (["-remote-address", "10.0.0.300"], "-remote-address must be an IP address or a CIDR block"),
    (["-value", "x", "-value-file", "f"], "give the value once"),
    (["-value", ""], "the value to search for is empty"),
])
def test_bad_flags_are_refused_before_reading(scenario: Scenario, flags: list[str], message: str) -> None:
    result = scenario.cli(*flags, str(scenario.log))
    assert result.exit_code == 1
    assert message in result.stderr
    assert result.stdout == ""


def test_verify_reads_the_same_gzipped_rotation_through_the_shared_reader(scenario: Scenario) -> None:
    env = base_env(scenario.directory)
    env["STRONGROOM_ADDR"] = scenario.node.server.address
    env["STRONGROOM_TOKEN"] = scenario.node.root
    result = Cli(env)("audit", "verify", "-format=json", "-allow-open-tail", *scenario.files())
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["intact"] is True
    assert report["files"] == [str(scenario.log_1_gz), str(scenario.log)]


# -- the filter logic, without a server ------------------------------------------------------------------


def entry(**fields: Any) -> dict[str, Any]:
    """A response entry in the documented shape; keyword arguments replace top-level parts."""
    base: dict[str, Any] = {
        "type": "response",
        "time": "2026-03-01T10:00:00.000000Z",
        "auth": {"client_token": hmac_of("1"), "accessor": hmac_of("2"), "policies": ["default"]},
        "request": {"id": "req-1", "operation": "read", "path": "secret/data/app", "remote_address": "10.0.0.7",
                    "client_token": hmac_of("1"), "client_token_accessor": hmac_of("2"),
                    "namespace": {"id": "root"}},
        "response": {"status_code": 200, "data": {"data": {hmac_of("3"): hmac_of("4")}}},
        "chain": {"id": "c" * 32, "seq": 7, "prev": "0" * 64},
    }
    base.update(fields)
    return base


def criteria(**flags: Any) -> Criteria:
    return build_criteria(now=NOW, **flags)


def test_without_filters_requests_and_responses_match_and_checkpoints_do_not() -> None:
    plain = criteria()
    assert plain.matches(entry())
    assert plain.matches(entry(type="request"))
    assert not plain.matches(entry(type="checkpoint"))
    assert criteria(checkpoints=True).matches(entry(type="checkpoint"))
    assert not criteria(types=["request"]).matches(entry())
    assert criteria(types=["request, response"]).matches(entry())


@pytest.mark.parametrize(("flags", "matching", "other"), [
    ({"paths": ["secret/data/"]}, {}, {"request": {"path": "sys/mounts"}}),
    ({"paths": ["sys/", "/secret/"]}, {}, {"request": {"path": "auth/token/create"}}),
    ({"operations": ["READ"]}, {}, {"request": {"operation": "list"}}),
    ({"request_ids": ["req-1"]}, {}, {"request": {"id": "req-2"}}),
    ({"remote_addresses": ["10.0.0.0/8"]}, {}, {"request": {"remote_address": "192.168.1.1"}}),
    ({"remote_addresses": ["10.0.0.7"]}, {"request": {"remote_address": "::ffff:10.0.0.7"}},
     {"request": {"remote_address": "10.0.0.8"}}),
    ({"remote_addresses": ["fd00::/8"]}, {"request": {"remote_address": "fd00::1"}},
     {"request": {"remote_address": "not-an-address"}}),
    ({"statuses": ["200"]}, {}, {"response": {"status_code": 404}}),
    ({"statuses": ["4xx,2xx"]}, {"response": {"status_code": 403}}, {"response": {"status_code": 503}}),
    ({"error": "denied"}, {"error": "1 error occurred: Permission Denied"}, {"error": "no handler"}),
    ({"error": ""}, {"error": "anything"}, {}),
    ({"since": "2026-03-01T10:00:00Z"}, {}, {"time": "2026-03-01T09:59:59.999999Z"}),
    ({"until": "2026-03-01T11:00:00+01:00"}, {"time": "2026-03-01T09:59:59.999999Z"}, {}),
    ({"since": "2h"}, {}, {"time": "2026-03-01T09:59:59Z"}),
    ({"since": "2h"}, {}, {"time": "not a time"}),
])
def test_each_filter_keeps_what_it_names_and_drops_the_rest(flags: dict[str, Any], matching: dict[str, Any],
                                                            other: dict[str, Any]) -> None:
    chosen = criteria(**flags)
    assert chosen.matches(merged(entry(), matching))
    assert not chosen.matches(merged(entry(), other))


def merged(base: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in change.items():
        out[key] = {**out[key], **value} if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def test_a_filter_on_a_field_the_entry_lacks_excludes_it() -> None:
    request_entry = entry(type="request")
    del request_entry["response"]
    assert not criteria(statuses=["2xx"]).matches(request_entry)
    checkpoint = {"type": "checkpoint", "time": "2026-03-01T10:00:00Z", "checkpoint": {"kind": "open"}}
    assert not criteria(checkpoints=True, paths=["secret/"]).matches(checkpoint)
    assert criteria(checkpoints=True, since="2026-03-01T09:00:00Z").matches(checkpoint)
    assert not criteria(error="").matches(entry())


def test_filters_of_different_kinds_must_all_hold() -> None:
    both = criteria(paths=["secret/"], operations=["read"], statuses=["200"])
    assert both.matches(entry())
    assert not both.matches(merged(entry(), {"request": {"operation": "list"}}))
    assert not both.matches(merged(entry(), {"response": {"status_code": 500}}))


def test_the_window_is_since_inclusive_and_until_exclusive() -> None:
    window = criteria(since="2026-03-01T10:00:00Z", until="2026-03-01T10:00:01Z")
    assert window.matches(entry(time="2026-03-01T10:00:00.000000Z"))
    assert window.matches(entry(time="2026-03-01T10:00:00.999999Z"))
    assert not window.matches(entry(time="2026-03-01T10:00:01.000000Z"))


def test_relative_times_count_back_from_now_and_zoned_times_are_required() -> None:
    assert parse_time("15m", NOW, "since") == NOW - dt.timedelta(minutes=15)
    assert parse_time("1h30m", NOW, "since") == NOW - dt.timedelta(minutes=90)
    assert parse_time("7d", NOW, "since") == NOW - dt.timedelta(days=7)
    assert parse_time("2026-03-01T10:00:00Z", NOW, "since") == dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC)
    with pytest.raises(ValueError, match="no time zone"):
        parse_time("2026-03-01", NOW, "until")
    with pytest.raises(ValueError, match="-since must be an RFC 3339 time"):
        parse_time("last tuesday", NOW, "since")
    with pytest.raises(ValueError, match="-since must be an RFC 3339 time"):
        parse_time("", NOW, "since")


def test_statuses_are_codes_or_classes() -> None:
    assert parse_status("403") == (403, 403)
    assert parse_status("5xx") == (500, 599)
    for bad in ("99", "600", "4XX"[:2], "6xx", "40x", "abc"):
        with pytest.raises(ValueError, match="-status must be"):
            parse_status(bad)


def test_accessors_are_found_in_the_callers_and_the_granted_tokens_fields() -> None:
    wanted = criteria().with_needles(accessor=Needle([hmac_of("9")]))
    assert not wanted.matches(entry())
    assert wanted.matches(merged(entry(), {"auth": {"accessor": hmac_of("9")}}))
    assert wanted.matches(merged(entry(), {"request": {"client_token_accessor": hmac_of("9")}}))
    assert wanted.matches(merged(entry(), {"response": {"auth": {"accessor": hmac_of("9")}}}))
    assert not wanted.matches(merged(entry(), {"request": {"data": {"accessor": hmac_of("9")}}}))


def test_a_values_hmac_is_found_in_any_leaf_or_nested_key_and_the_plain_value_only_where_logged_raw() -> None:
    by_hmac = criteria().with_needles(value_hmacs=Needle([hmac_of("3")]))
    assert by_hmac.matches(entry())  # a nested key of response.data
    assert by_hmac.matches(entry(response={"data": {"list": [{"x": hmac_of("3")}]}}))
    assert not by_hmac.matches(entry(response={"data": {"data": {hmac_of("5"): hmac_of("4")}}}))

    plain = criteria().with_needles(value_plain=Needle(["s3cret"]))
    assert plain.matches(entry(response={"data": {"data": {"password": "s3cret"}}}))
    assert plain.matches(entry(response={"data": {"data": {"s3cret": 1}}}))
    assert plain.matches(merged(entry(), {"auth": {"client_token": "s3cret"}}))
    # The same text in a field that is always clear is not a secret that was logged.
    assert not plain.matches(merged(entry(), {"request": {"path": "s3cret"}}))
    assert not plain.matches(entry(error="s3cret"))


def test_a_needle_compares_every_form_and_never_shows_them() -> None:
    needle = Needle(["pässwörd", hmac_of("a"), "pässwörd"])
    assert needle.found_in("pässwörd")
    assert needle.found_in(hmac_of("a"))
    assert not needle.found_in("passwort")
    assert "pässwörd" not in repr(needle)
    assert repr(needle) == "Needle(<2 hidden>)"
    assert not Needle()
    chosen = criteria().with_needles(value_plain=needle)
    assert "pässwörd" not in repr(chosen)


# -- redaction ---------------------------------------------------------------------------------------


def raw_entry() -> dict[str, Any]:
    """What a log_raw device writes: tokens, names and data in clear."""
    return entry(
        auth={"client_token": "hvs.raw-token", "accessor": "acc-1", "display_name": "token-app",
              "metadata": {"team": "blue"}, "policies": ["default"], "entity_id": "e-1"},
        request={"id": "req-1", "operation": "update", "path": "secret/data/app", "remote_address": "10.0.0.7",
                 "client_token": "hvs.raw-token", "namespace": {"id": "root"},
                 "data": {"data": {"password": "pw-1", "nested": {"k-2": ["v-3"]}}, "version": 3}},
        response={"status_code": 200, "mount_point": "secret/", "warnings": ["w"],
                  "data": {"http_status_code": 200, "http_content_type": "text/plain", "http_raw_body": "Ym9keQ=="}},
        error="permission denied",
    )


def test_values_logged_raw_are_replaced_and_clear_fields_kept() -> None:
    cleaned, count = redact(raw_entry())
    text = json.dumps(cleaned)
    for secret in ("hvs.raw-token", "token-app", "blue", "pw-1", "k-2", "v-3", "Ym9keQ=="):
        assert secret not in text
    assert cleaned["request"]["data"] == {"data": REDACTED, "version": 3}
    assert cleaned["response"]["data"]["http_raw_body"] == REDACTED
    assert cleaned["response"]["data"]["http_content_type"] == "text/plain"
    assert cleaned["auth"]["metadata"] == {"team": REDACTED}
    assert cleaned["auth"]["accessor"] == "acc-1"  # accessors may be clear (hmac_accessor=false)
    for kept in ("operation", "path", "remote_address", "id", "namespace"):
        assert cleaned["request"][kept] == raw_entry()["request"][kept]
    assert cleaned["error"] == "permission denied"
    assert cleaned["response"]["warnings"] == ["w"]
    assert count == 6
    assert set(raw_strings(cleaned)) <= {REDACTED}


def test_an_hmacd_entry_is_left_exactly_as_logged() -> None:
    hashed = entry(response={"status_code": 200, "data": {"data": {hmac_of("3"): [hmac_of("4"), 5, None]}}})
    assert redact(hashed) == (hashed, 0)
    assert list(raw_strings(hashed)) == []
    assert (hmac_of("3"), True) in list(strings(hashed))


def test_a_content_type_field_is_clear_only_beside_a_raw_body() -> None:
    kv_v1 = entry(response={"status_code": 200, "data": {"http_content_type": "secret-looking"}})
    cleaned, count = redact(kv_v1)
    assert cleaned["response"]["data"]["http_content_type"] == REDACTED
    assert count == 1


SECRETS = st.text(alphabet="abcdefghij", min_size=1, max_size=8).map(lambda s: "s-" + s)
TREES = st.recursive(
    SECRETS | st.integers() | st.booleans() | st.none(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(SECRETS, inner, max_size=3),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(request_data=st.dictionaries(st.sampled_from(["data", "options", "policy"]), TREES, max_size=3),
       response_data=st.dictionaries(st.sampled_from(["data", "keys", "metadata"]), TREES, max_size=3),
       token=SECRETS)
def test_no_raw_value_survives_redaction_anywhere_in_an_entry(request_data: dict[str, Any],
                                                              response_data: dict[str, Any], token: str) -> None:
    raw = entry(auth={"client_token": token, "display_name": token},
                request={"path": "secret/data/app", "client_token": token, "data": request_data},
                response={"status_code": 200, "data": response_data})
    cleaned, _ = redact(raw)
    assert "s-" not in json.dumps(cleaned)
    assert set(raw_strings(cleaned)) <= {REDACTED}


# -- the shared reader ---------------------------------------------------------------------------------


def test_the_reader_takes_plain_and_gzip_files_and_locates_what_is_not_an_entry(tmp_path: Path) -> None:
    body = b'{"type":"request","time":"t"}'
    content = b"".join([b"audit: " + body + b"\n", b"\n", b"audit: [1]\n", b"audit: {torn\n", b"other " + body + b"\n",
                        b"audit: " + body])
    plain = tmp_path / "audit.log"
    plain.write_bytes(content)
    packed = tmp_path / "rotated"  # compressed whatever its name
    packed.write_bytes(gzip.compress(content))

    for path in (plain, packed):
        items = list(read_log(path, b"audit: "))
        assert isinstance(items[0], Line)
        assert items[0].body == body
        assert items[0].raw == b"audit: " + body
        assert [(type(i).__name__, i.number) for i in items] == [
            ("Line", 1), ("Malformed", 2), ("Malformed", 3), ("Malformed", 4), ("Malformed", 5), ("Malformed", 6)]
        messages = [i.message for i in items if isinstance(i, Malformed)]
        assert messages == ["the line does not start with the device prefix", "not an audit entry (not a JSON object)",
                            "not an audit entry (invalid JSON: torn, truncated or edited)",
                            "the line does not start with the device prefix",
                            "the file ends inside a line (truncated or torn)"]

    unprefixed = list(read_log(plain))
    assert isinstance(unprefixed[4], Line)  # without a known prefix, the entry starts at the first "{"
    assert unprefixed[4].body == body

    cut = tmp_path / "cut.gz"
    cut.write_bytes(gzip.compress(content * 50)[:-30])
    last = list(read_log(cut, b"audit: "))[-1]
    assert isinstance(last, Malformed)
    assert last.message == "the compressed file is damaged or ends early"
    assert str(last) == f"{cut}:{last.number}: the compressed file is damaged or ends early"
