"""The weir.toml workflow end to end: a temporary git repository, `weir schema apply`,
`weir schema check --against-git|--against-server` and `weir schema lint` as subprocesses."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from tests.e2e.conftest import Run, clean_env, run_weir
from weir.sdk import SchemaRegistryClient

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Weir Test",
    "GIT_AUTHOR_EMAIL": "test@weir.invalid",
    "GIT_COMMITTER_NAME": "Weir Test",
    "GIT_COMMITTER_EMAIL": "test@weir.invalid",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
}


class Repo:
    """A git work tree in a temp dir."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        done = subprocess.run(
            ["git", *args],
            cwd=self.root,
            env=clean_env(**GIT_ENV),
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        return done.stdout

    def write(self, name: str, text: str) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def commit(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD").strip()

    def weir(self, *args: str | Path) -> Run:
        return run_weir(*args, cwd=self.root, env=clean_env(**GIT_ENV))

    def line_of(self, name: str, needle: str) -> int:
        """The 1-based line of the first line containing ``needle``."""
        lines = (self.root / name).read_text().splitlines()
        return next(i for i, line in enumerate(lines, 1) if needle in line)


def avro(fields: list[dict[str, object]], name: str = "User") -> str:
    """A pretty-printed Avro record, one field per line."""
    head = {"type": "record", "name": name, "namespace": "acme", "doc": f"A {name}."}
    body = ",\n".join(f"    {json.dumps(f)}" for f in fields)
    start = json.dumps(head)[:-1]
    return f'{start},\n  "fields": [\n{body}\n  ]\n}}\n'


def json_schema(properties: dict[str, object], closed: bool = False) -> str:
    """A pretty-printed JSON Schema object."""
    return (
        json.dumps(
            {
                "$schema": "http://json-schema.org/draft-07/schema#",
                "type": "object",
                "properties": properties,
                "additionalProperties": not closed,
            },
            indent=2,
        )
        + "\n"
    )


MONEY = """syntax = "proto3";
package acme;

message Money {
  int64 cents = 1;
  string currency = 2;
}
"""

ORDER = """syntax = "proto3";
package acme;
import "money.proto";

message Order {
  string id = 1;
  acme.Money total = 2;
  Status status = 3;
}

enum Status {
  STATUS_UNSPECIFIED = 0;
  STATUS_OPEN = 1;
}
"""

GITHUB = re.compile(r"^::error file=(?P<file>[^,]+),line=(?P<line>\d+),title=(?P<title>[^:]+)::")

CONFIG = """\
# orders-value is listed before the schema it imports, on purpose: apply must reorder.
[subjects.orders-value]
file = "schemas/order.proto"
compatibility = "BACKWARD"
references = [{ name = "money.proto", entry = "money-value" }]

[subjects.money-value]
file = "schemas/money.proto"
compatibility = "FULL"

# No file: the convention schemas/users-value.avsc applies.
[subjects.users-value]
compatibility = "BACKWARD_TRANSITIVE"

[subjects.cart-value]
file = "schemas/cart.json"
"""

ID = {"name": "id", "type": "string", "doc": "The id."}
NOTE = {"name": "note", "type": "string", "default": "", "doc": "A note."}
USER_V1 = avro([ID])
CART_V1 = json_schema({"sku": {"type": "string"}, "qty": {"type": "integer"}})

ORDER_FILE, MONEY_FILE = "schemas/order.proto", "schemas/money.proto"
USER_FILE, CART_FILE = "schemas/users-value.avsc", "schemas/cart.json"


def annotations(stdout: str) -> set[tuple[str, int, str]]:
    """The ::error workflow commands in stdout as (file, line, title)."""
    found = [GITHUB.match(line) for line in stdout.splitlines()]
    return {(m["file"], int(m["line"]), m["title"]) for m in found if m}


def edit(repo: Repo, name: str, old: str, new: str) -> None:
    text = (repo.root / name).read_text()
    assert old in text, (name, old)
    repo.write(name, text.replace(old, new))


def verdicts(run: Run) -> dict[str, tuple[str, frozenset[tuple[str, str, str, int]]]]:
    """subject -> (status, {(level, rule, path, line)}) from a --output json check."""
    return {
        s["subject"]: (
            s["status"],
            frozenset((p["level"], p["rule"], p["path"], p["line"]) for p in s["problems"]),
        )
        for s in run.json()["subjects"]
    }


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    """A repository with weir.toml and version 1 of four subjects in three formats."""
    repo = Repo(tmp_path / "repo")
    repo.write("weir.toml", CONFIG)
    repo.write(MONEY_FILE, MONEY)
    repo.write(ORDER_FILE, ORDER)
    repo.write(USER_FILE, USER_V1)
    repo.write(CART_FILE, CART_V1)
    repo.commit("v1")
    return repo


# ----- check --against-git ----------------------------------------------------------------


def test_incompatible_change_fails_against_git_with_annotations(repo: Repo) -> None:
    edit(repo, ORDER_FILE, "string id = 1;", "int64 id = 1;")
    edit(repo, USER_FILE, json.dumps(ID), json.dumps(ID) + ',\n    {"name": "age", "type": "int"}')
    edit(repo, CART_FILE, '"type": "integer"', '"type": "string"')
    edit(
        repo,
        CART_FILE,
        '"sku": {\n      "type": "string"',
        '"sku": {\n      "type": "string",\n      "maxLength": 8',
    )

    done = repo.weir("schema", "check", "--against-git", "HEAD", "--output", "github")

    assert done.code == 1, done.stderr
    assert annotations(done.stdout) == {
        (
            ORDER_FILE,
            repo.line_of(ORDER_FILE, "int64 id = 1"),
            "BACKWARD FIELD_SCALAR_KIND_CHANGED",
        ),
        (
            USER_FILE,
            repo.line_of(USER_FILE, '"age"'),
            "BACKWARD READER_FIELD_MISSING_DEFAULT_VALUE",
        ),
        (CART_FILE, repo.line_of(CART_FILE, '"qty"'), "BACKWARD TYPE_CHANGED"),
        (CART_FILE, repo.line_of(CART_FILE, '"maxLength"'), "BACKWARD MAX_LENGTH_ADDED"),
    }
    assert "orders-value #/Order/1: field 1 (id)" in done.stdout


def test_text_output_is_file_line_level_rule_path_message(repo: Repo) -> None:
    edit(repo, ORDER_FILE, "string id = 1;", "int64 id = 1;")
    done = repo.weir("schema", "check", "--against-git", "HEAD")
    assert done.code == 1
    line = repo.line_of(ORDER_FILE, "int64 id = 1")
    first = done.stdout.splitlines()[0]
    assert re.match(
        rf"^{ORDER_FILE}:{line}: BACKWARD FIELD_SCALAR_KIND_CHANGED #/Order/1: field 1 \(id\) "
        r".* \(against commit [0-9a-f]{7}\)$",
        first,
    ), first
    assert "users-value unchanged" in done.stdout
    assert done.stdout.splitlines()[-1].startswith("weir schema check: failed: 4 subjects, 1 with")


def test_compatible_change_passes(repo: Repo) -> None:
    edit(repo, ORDER_FILE, "  Status status = 3;", "  Status status = 3;\n  string note = 4;")
    edit(repo, MONEY_FILE, "string currency = 2;", "string currency = 2;\n  string note = 3;")
    new_field = {"name": "age", "type": "int", "default": 0, "doc": "Age."}
    edit(repo, USER_FILE, json.dumps(ID), json.dumps(ID) + ",\n    " + json.dumps(new_field))
    edit(repo, CART_FILE, '"type": "integer"', '"type": "number"')

    done = repo.weir("schema", "check", "--against-git", "HEAD", "--output", "json")

    assert done.code == 0, done.stdout + done.stderr
    report = done.json()
    assert report["ok"] is True
    assert {s["subject"]: s["status"] for s in report["subjects"]} == {
        "money-value": "compatible",
        "orders-value": "compatible",
        "users-value": "compatible",
        "cart-value": "compatible",
    }
    github = repo.weir("schema", "check", "--against-git", "HEAD", "--output", "github")
    assert github.code == 0
    assert github.stdout.startswith("::notice::")


def test_transitive_level_catches_change_compatible_only_with_latest(repo: Repo) -> None:
    # The file is renamed (history must follow it), then v2 adds an int field and v3 drops it.
    repo.git("mv", USER_FILE, "schemas/user.avsc")
    edit(
        repo,
        "weir.toml",
        "[subjects.users-value]\n",
        '[subjects.users-value]\nfile = "schemas/user.avsc"\n',
    )
    edit(repo, "schemas/user.avsc", '"doc": "A User."', '"doc": "A user of the shop."')
    repo.commit("rename, reword the doc")
    score_int = {"name": "score", "type": "int", "default": 0, "doc": "Score."}
    repo.write("schemas/user.avsc", avro([ID, score_int]))
    repo.commit("v2: score as int")
    repo.write("schemas/user.avsc", avro([ID, NOTE]))
    repo.commit("v3: drop score, add note")
    score_str = {"name": "score", "type": "string", "default": "", "doc": "Score."}
    repo.write("schemas/user.avsc", avro([ID, NOTE, score_str]))  # fine after v3, not v2

    transitive = repo.weir("schema", "check", "--against-git", "HEAD", "--output", "json")

    assert transitive.code == 1, transitive.stdout + transitive.stderr
    user = next(s for s in transitive.json()["subjects"] if s["subject"] == "users-value")
    assert user["level"] == "BACKWARD_TRANSITIVE"
    # v1 under the old name, then the renamed file, v2 and v3 under the new name
    assert len(user["compared"]) == 4
    (problem,) = user["problems"]
    assert problem["rule"] == "TYPE_MISMATCH"
    assert problem["line"] == repo.line_of("schemas/user.avsc", '"score"')
    v2 = repo.git("rev-parse", "--short=7", "HEAD~1").strip()
    assert problem["against"] == f"commit {v2}"

    edit(repo, "weir.toml", '"BACKWARD_TRANSITIVE"', '"BACKWARD"')
    latest_only = repo.weir("schema", "check", "--against-git", "HEAD")
    assert latest_only.code == 0, latest_only.stdout


def test_junit_output(repo: Repo) -> None:
    edit(repo, CART_FILE, '"type": "integer"', '"type": "string"')
    done = repo.weir("schema", "check", "--against-git", "HEAD", "--output", "junit")
    assert done.code == 1
    root = ET.fromstring(done.stdout.split("\n", 1)[1])
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == ("4", "1")
    failures = {c.get("name"): c.find("failure") for c in suite.iter("testcase")}
    assert failures["cart-value (BACKWARD)"] is not None
    assert failures["cart-value (BACKWARD)"].get("type") == "TYPE_CHANGED"
    assert failures["money-value (FULL)"] is None


def test_check_against_git_exit_codes_for_bad_input(repo: Repo, tmp_path: Path) -> None:
    done = repo.weir("schema", "check", "--against-git", "no-such-ref")
    assert done.code == 2
    assert "no-such-ref" in done.stderr
    repo.write(
        "weir.toml",
        CONFIG + "\n[subjects.extra-value]\nfile = 'schemas/cart.json'\nlevel = 'FULL'\n",
    )
    done = repo.weir("schema", "check", "--against-git", "HEAD")
    assert done.code == 2
    assert "unknown key level" in done.stderr
    repo.write("weir.toml", "[subjects.a]\nfile = 'schemas/missing.avsc'\n")
    done = repo.weir("schema", "check", "--against-git", "HEAD")
    assert done.code == 2
    assert "missing.avsc" in done.stderr
    outside = tmp_path / "not-git"
    outside.mkdir()
    (outside / "weir.toml").write_text(CONFIG)
    done = repo.weir("schema", "check", "--config", outside / "weir.toml", "--against-git", "HEAD")
    assert done.code == 2
    assert "git" in done.stderr
    done = repo.weir("schema", "check")
    assert done.code == 2
    assert "--against-git" in done.stderr


# ----- apply ------------------------------------------------------------------------------


def test_apply_registers_references_first_and_twice_is_a_no_op(repo: Repo, server) -> None:
    done = repo.weir("schema", "apply", "--server", server.address)

    assert done.code == 0, done.stderr
    registered = [
        line.split(":")[1].strip() for line in done.stderr.splitlines() if "registered" in line
    ]
    assert registered == ["money-value", "orders-value", "users-value", "cart-value"]
    registry = server.server.registry
    assert registry.list_versions("money-value") == [1]
    client = SchemaRegistryClient(server.address)
    order = client.get_version("orders-value", 1)
    assert order.schema is not None
    assert [(r.name, r.subject, r.version) for r in order.schema.references] == [
        ("money.proto", "money-value", 1)
    ]
    assert client.get_compatibility("money-value").value == "FULL"
    assert client.get_compatibility("users-value").value == "BACKWARD_TRANSITIVE"

    again = repo.weir("schema", "apply", "--server", server.address, "--output", "json")
    assert again.code == 0, again.stderr
    plan = again.json()
    assert plan["written"] is False
    assert {s["status"] for s in plan["subjects"]} == {"unchanged"}
    assert all(s["level_change"] is None for s in plan["subjects"])
    assert "registered" not in again.stderr
    assert sorted(client.list_subjects()) == [
        "cart-value",
        "money-value",
        "orders-value",
        "users-value",
    ]
    assert all(client.list_versions(s) == [1] for s in client.list_subjects())

    # A changed reference makes a new version of it and of the schema that imports it.
    edit(repo, MONEY_FILE, "string currency = 2;", "string currency = 2;\n  string note = 3;")
    third = repo.weir("schema", "apply", "--server", server.address)
    assert third.code == 0, third.stderr
    order2 = client.get_version("orders-value", 2)
    assert order2.schema is not None
    assert [r.version for r in order2.schema.references] == [2]
    client.close()


def test_dry_run_writes_nothing(repo: Repo, server) -> None:
    client = SchemaRegistryClient(server.address)
    dry = repo.weir("schema", "apply", "--server", server.address, "--dry-run")
    assert dry.code == 0, dry.stderr
    assert "new subject" in dry.stdout
    assert "dry run, nothing written" in dry.stdout
    assert client.list_subjects() == []
    assert client.get_compatibility("money-value", default_to_global=True).value == "BACKWARD"

    assert repo.weir("schema", "apply", "--server", server.address).code == 0
    edit(repo, CART_FILE, '"type": "integer"', '"type": "number"')
    edit(
        repo,
        "weir.toml",
        "[subjects.cart-value]\n",
        '[subjects.cart-value]\ncompatibility = "BACKWARD_TRANSITIVE"\n',
    )
    dry = repo.weir("schema", "apply", "--server", server.address, "--dry-run", "--output", "json")
    assert dry.code == 0, dry.stderr
    cart = next(s for s in dry.json()["subjects"] if s["subject"] == "cart-value")
    assert cart["status"] == "compatible"
    assert cart["level_change"] == {"from": None, "to": "BACKWARD_TRANSITIVE"}
    assert client.list_versions("cart-value") == [1]
    assert client.get_compatibility("cart-value", default_to_global=True).value == "BACKWARD"
    client.close()


def test_apply_registers_nothing_when_any_subject_is_incompatible(repo: Repo, server) -> None:
    assert repo.weir("schema", "apply", "--server", server.address).code == 0
    edit(repo, MONEY_FILE, "string currency = 2;", "string currency = 2;\n  string note = 3;")
    edit(repo, CART_FILE, '"type": "integer"', '"type": "string"')

    done = repo.weir("schema", "apply", "--server", server.address)

    assert done.code == 1
    assert "cart-value    INCOMPATIBLE at BACKWARD" in done.stdout
    qty = repo.line_of(CART_FILE, '"qty"')
    assert f"{CART_FILE}:{qty}: BACKWARD TYPE_CHANGED" in done.stdout
    assert "nothing written" in done.stdout
    registry = server.server.registry
    assert registry.list_versions("money-value") == [1]  # compatible, but held back too
    assert registry.list_versions("cart-value") == [1]


# ----- check --against-server ---------------------------------------------------------------


def test_against_server_gives_the_same_verdicts_as_against_git(repo: Repo, server) -> None:
    at = ("--server", server.address)
    assert repo.weir("schema", "apply", *at).code == 0
    score_int = {"name": "score", "type": "int", "default": 0, "doc": "Score."}
    repo.write(USER_FILE, avro([ID, score_int]))
    edit(repo, ORDER_FILE, "  Status status = 3;", "  Status status = 3;\n  string note = 4;")
    repo.commit("v2")
    assert repo.weir("schema", "apply", *at).code == 0
    repo.write(USER_FILE, avro([ID, NOTE]))
    repo.commit("v3")
    assert repo.weir("schema", "apply", *at).code == 0

    # The change under review: transitive-only break, a plain break, a compatible change.
    score_str = {"name": "score", "type": "string", "default": "", "doc": "Score."}
    repo.write(USER_FILE, avro([ID, NOTE, score_str]))
    edit(repo, ORDER_FILE, "string note = 4;", "int32 note = 4;")
    edit(repo, CART_FILE, '"type": "integer"', '"type": "number"')

    git = repo.weir("schema", "check", "--against-git", "HEAD", "--output", "json")
    registry = repo.weir("schema", "check", "--against-server", server.address, "--output", "json")

    assert (git.code, registry.code) == (1, 1), git.stderr + registry.stderr
    assert verdicts(git) == verdicts(registry)
    found = verdicts(git)
    assert found["users-value"][0] == "incompatible"
    assert found["orders-value"][0] == "incompatible"
    assert found["cart-value"][0] == "compatible"
    assert found["money-value"][0] == "unchanged"
    against = {p["against"] for s in registry.json()["subjects"] for p in s["problems"]}
    assert "version 2" in against

    # And with the working tree back at HEAD both say everything is unchanged.
    repo.git("checkout", "--", ".")
    git = repo.weir("schema", "check", "--against-git", "HEAD", "--output", "json")
    registry = repo.weir("schema", "check", "--against-server", server.address, "--output", "json")
    assert (git.code, registry.code) == (0, 0)
    assert verdicts(git) == verdicts(registry)


def test_against_server_uses_weir_server_and_reports_unreachable(repo: Repo, server) -> None:
    env = clean_env(**GIT_ENV, WEIR_SERVER=server.address)
    done = run_weir("schema", "check", "--against-server", cwd=repo.root, env=env)
    assert done.code == 0, done.stderr
    assert "new" in done.stdout
    done = repo.weir("schema", "check", "--against-server", "127.0.0.1:1", "--timeout", "2")
    assert done.code == 3
    assert "cannot reach the Weir server at 127.0.0.1:1" in done.stderr


def test_one_file_check_still_works(repo: Repo, server) -> None:
    assert repo.weir("schema", "apply", "--server", server.address).code == 0
    done = repo.weir("schema", "check", "cart-value", CART_FILE, "--server", server.address)
    assert done.code == 0, done.stderr
    assert "compatible with subject 'cart-value'" in done.stdout
    done = repo.weir("schema", "check", "cart-value", CART_FILE, "--against-git", "HEAD")
    assert done.code == 2


# ----- lint --------------------------------------------------------------------------------


def test_lint_reports_each_format_and_rules_switch_off(repo: Repo) -> None:
    assert repo.weir("schema", "lint").code == 0
    edit(repo, ORDER_FILE, "  Status status = 3;\n", "  string orderNote = 4;\n")
    edit(repo, ORDER_FILE, "STATUS_UNSPECIFIED = 0;", "UNKNOWN = 0;")
    repo.write(USER_FILE, avro([ID, {"name": "email", "type": ["null", "string"]}]))
    repo.write(
        CART_FILE,
        json.dumps({"type": "object", "properties": {"sku": {"type": "string"}}}, indent=2),
    )

    done = repo.weir("schema", "lint", "--output", "github")

    assert done.code == 1
    found = annotations(done.stdout)
    assert (
        ORDER_FILE,
        repo.line_of(ORDER_FILE, "orderNote"),
        "LINT PROTO_FIELD_LOWER_SNAKE_CASE",
    ) in found
    assert (
        ORDER_FILE,
        repo.line_of(ORDER_FILE, "UNKNOWN"),
        "LINT PROTO_ENUM_ZERO_VALUE_SUFFIX",
    ) in found
    assert (
        ORDER_FILE,
        repo.line_of(ORDER_FILE, "message Order"),
        "LINT PROTO_FIELD_NO_DELETE_UNLESS_RESERVED",
    ) in found
    assert (USER_FILE, repo.line_of(USER_FILE, '"email"'), "LINT AVRO_OPTIONAL_DEFAULT") in found
    assert (USER_FILE, repo.line_of(USER_FILE, '"email"'), "LINT AVRO_FIELD_DOC") in found
    assert (CART_FILE, 1, "LINT JSON_SCHEMA_DECLARED") in found
    assert (CART_FILE, 1, "LINT JSON_ADDITIONAL_PROPERTIES_EXPLICIT") in found

    edit(
        repo,
        ORDER_FILE,
        "message Order {\n",
        'message Order {\n  reserved 3;\n  reserved "status";\n',
    )
    config = (repo.root / "weir.toml").read_text()
    config = config.replace(
        "[subjects.cart-value]\n",
        "[subjects.cart-value]\n"
        'lint_disable = ["JSON_SCHEMA_DECLARED", "json_additional_properties_explicit"]\n',
    )
    repo.write(
        "weir.toml",
        config
        + '\n[lint]\ndisable = ["PROTO_FIELD_LOWER_SNAKE_CASE", "PROTO_ENUM_ZERO_VALUE_SUFFIX",\n'
        '  "PROTO_ENUM_VALUE_PREFIX", "AVRO_OPTIONAL_DEFAULT", "AVRO_FIELD_DOC"]\n',
    )
    done = repo.weir("schema", "lint")
    assert done.code == 0, done.stdout
    assert "4 subjects, 0 with problems" in done.stdout

    repo.write("weir.toml", config + '\n[lint]\ndisable = ["NO_SUCH_RULE"]\n')
    done = repo.weir("schema", "lint")
    assert done.code == 2
    assert "unknown rule NO_SUCH_RULE" in done.stderr


@pytest.mark.parametrize("command", ["apply", "check", "lint"])
def test_help_shows_examples_and_exit_codes(repo: Repo, command: str) -> None:
    done = repo.weir("schema", command, "--help")
    assert done.code == 0
    examples = done.stdout.split("examples", 1)[1]
    assert f"weir schema {command}" in examples
    assert "exit codes" in done.stdout
    assert "--config" in done.stdout
