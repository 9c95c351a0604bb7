"""The shipped service definitions: systemd/holdemd.service and the launchd plist."""

from __future__ import annotations

import os
import plistlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "systemd" / "holdemd.service"
PLIST = ROOT / "systemd" / "org.holdemd.holdemd.plist"
README = ROOT / "systemd" / "README.md"
PLACEHOLDER_BINARY = "/usr/local/bin/holdemd"  # README's install commands replace it
TRUE_VALUES = {"1", "yes", "true", "on"}

# systemd-analyze failing because of the machine, not the unit.
ENVIRONMENT_FAILURES = (
    "Failed to initialize manager",
    "Failed to lookup RuntimeDirectory path",
    "Failed to connect to bus",
    "System has not been booted with systemd",
    "Operation not permitted",
)


def parse_unit(text: str) -> dict[str, dict[str, list[str]]]:
    """Sections of a unit file: key -> every value assigned (keys may repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"assignment outside a section: {raw!r}"
        key, sep, value = line.partition("=")
        assert sep, f"not a KEY=VALUE line: {raw!r}"
        assert not value.endswith("\\"), "continuation lines are not used here"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


@pytest.fixture(scope="module")
def unit() -> dict[str, dict[str, list[str]]]:
    return parse_unit(UNIT.read_text())


def one(section: dict[str, list[str]], key: str) -> str:
    values = section.get(key)
    assert values, f"{key}= missing"
    return values[-1]  # the last assignment wins


def seconds(value: str) -> float:
    units = {"": 1, "s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600, "ms": 0.001}
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([a-z]*)", value)
    assert match and match.group(2) in units, f"unexpected time span {value!r}"
    return float(match.group(1)) * units[match.group(2)]


def test_unit_is_a_notify_service_that_stops_gracefully(unit) -> None:
    service = unit["Service"]
    assert one(service, "Type") == "notify"
    assert one(service, "NotifyAccess") == "main"
    exec_start = one(service, "ExecStart").split()
    assert exec_start == [PLACEHOLDER_BINARY, "serve"]
    assert one(service, "KillMode") == "mixed"
    assert one(service, "KillSignal") == "SIGTERM"
    assert seconds(one(service, "TimeoutStopSec")) >= 60, "room for a final snapshot"
    assert 0 < seconds(one(service, "WatchdogSec")) <= 120
    assert one(service, "Restart") == "on-failure"
    assert "$MAINPID" in one(service, "ExecReload") and "-HUP" in one(service, "ExecReload")
    assert one(service, "StateDirectory") == "holdemd"
    assert one(service, "RuntimeDirectory") == "holdemd"
    assert one(service, "RuntimeDirectoryMode") == "0750"
    assert one(service, "CacheDirectory") == "holdemd"
    assert "XDG_CACHE_HOME=%C" in service.get("Environment", [])
    assert "WantedBy" in unit["Install"]


def test_unit_hardening_leaves_what_training_needs(unit) -> None:
    service = unit["Service"]
    # numba JIT-compiles: it needs writable-then-executable memory.
    for value in service.get("MemoryDenyWriteExecute", []):
        assert value.lower() not in TRUE_VALUES
    assert one(service, "NoNewPrivileges") == "yes"
    assert one(service, "ProtectSystem") == "strict"
    assert one(service, "ProtectHome") == "read-only"  # configs may live in a home directory
    assert one(service, "PrivateTmp") == "yes"
    assert one(service, "RestrictAddressFamilies").split() == ["AF_UNIX"]
    # /proc/meminfo and clients' /proc/PID/status must stay readable.
    assert "ProcSubset" not in service
    assert "ProtectProc" not in service


# Where the network may appear: the multi-host package, reached only with --listen (the head,
# whose drop-in widens RestrictAddressFamilies, systemd/README.md) or `holdemd node` (its own
# unit); the flags and messages that name its addresses; the option that carries --listen.
NETWORK_ALLOWED = (
    "holdemd/hosts/",
    "holdemd/cli/train.py",
    "holdemd/cli/serve.py",
    "holdemd/cli/node.py",
    "holdemd/cli/keys.py",
    "holdemd/training/options.py",
)


def test_the_code_opens_no_network_sockets() -> None:
    """RestrictAddressFamilies=AF_UNIX holds while the daemon and its workers use Unix sockets
    alone (ZeroMQ over ipc://): TCP lives in holdemd/hosts/, which only --listen reaches."""
    offenders = []
    pattern = re.compile(r"tcp://|udp://|e?pgm://|ws://|AF_INET|create_connection")
    for path in sorted((ROOT / "holdemd").rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        if name.startswith(NETWORK_ALLOWED):
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line):
                offenders.append(f"{name}:{number}: {line.strip()}")
    assert not offenders, "network use conflicts with the unit's RestrictAddressFamilies=AF_UNIX"
    # And a run opens the head's TCP socket only when it is given --listen.
    run = (ROOT / "holdemd" / "training" / "run.py").read_text()
    assert "if options.listen:" in run


def _holdemd_command() -> str:
    """An ExecStart= that exists here: the venv's console script, else this Python."""
    script = Path(sys.executable).with_name("holdemd")
    if script.is_file() and os.access(script, os.X_OK):
        return f"{script} serve"
    return f"{Path(sys.executable).absolute()} -m holdemd.cli serve"


def _verify(unit_path: Path, tmp_path: Path, user: bool) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    command = ["systemd-analyze"]
    if user:
        command.append("--user")
        runtime = tmp_path / "xdg-runtime"
        runtime.mkdir(mode=0o700, exist_ok=True)
        env["XDG_RUNTIME_DIR"] = str(runtime)  # the user manager needs one to resolve paths
    command += ["verify", str(unit_path)]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path
    )


def _complaints(result: subprocess.CompletedProcess[str], unit_path: Path) -> list[str]:
    """Lines about our unit (systemd-analyze may also mention the host's other units)."""
    lines = (result.stdout + result.stderr).splitlines()
    return [line for line in lines if unit_path.name in line or str(unit_path) in line]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
@pytest.mark.parametrize("user", [False, True], ids=["system", "user"])
def test_systemd_analyze_verify(tmp_path: Path, user: bool) -> None:
    text = UNIT.read_text()
    text, count = re.subn(r"(?m)^ExecStart=.*$", f"ExecStart={_holdemd_command()}", text)
    assert count == 1
    unit_path = tmp_path / "holdemd.service"
    unit_path.write_text(text)

    result = _verify(unit_path, tmp_path, user)
    output = result.stdout + result.stderr
    if any(marker in output for marker in ENVIRONMENT_FAILURES) and not _complaints(
        result, unit_path
    ):
        pytest.skip(f"systemd-analyze cannot run here: {output.strip().splitlines()[0]}")
    assert result.returncode == 0, output
    assert _complaints(result, unit_path) == [], output

    # verify exits 0 even for unknown keys and bad values (it only warns), so make sure it
    # does read the unit and warn about it, or the check above proves nothing.
    broken = tmp_path / "broken" / "holdemd.service"
    broken.parent.mkdir()
    broken.write_text(text.replace("KillMode=mixed", "KillMode=mixed\nNoSuchSetting=1"))
    warned = _verify(broken, tmp_path, user)
    assert any("NoSuchSetting" in line for line in _complaints(warned, broken)), (
        warned.stdout + warned.stderr
    )


def test_launchd_plist() -> None:
    with PLIST.open("rb") as f:
        plist = plistlib.load(f)  # XML well-formed and a valid plist: what plutil -lint checks
    assert plist["Label"] == "org.holdemd.holdemd"
    assert plist["ProgramArguments"] == [PLACEHOLDER_BINARY, "serve"]
    assert plist["RunAtLoad"] is True
    assert plist["KeepAlive"] == {"SuccessfulExit": False}  # restart on failure only
    assert plist["ExitTimeOut"] >= 60  # SIGTERM to SIGKILL: room for a final snapshot
    assert plist["ProcessType"] in {"Standard", "Background", "Interactive", "Adaptive"}
    for key in ("StandardOutPath", "StandardErrorPath", "WorkingDirectory"):
        path = plist[key]
        assert "~" not in path and "$" not in path, f"launchd does not expand {path}"
        assert path == "__HOME__" or path.startswith(("__HOME__/", "/"))
    for value in plist.get("EnvironmentVariables", {}).values():
        assert "~" not in value and "$" not in value


def test_readme_install_commands_match_the_files() -> None:
    """The README's sed commands replace these placeholders; keep them in step."""
    readme = README.read_text()
    assert f"s#^ExecStart={PLACEHOLDER_BINARY}#" in readme
    assert f"s#{PLACEHOLDER_BINARY}#" in readme and "s#__HOME__#$HOME#g" in readme
    assert f"ExecStart={PLACEHOLDER_BINARY} serve" in UNIT.read_text()
    assert "__HOME__" in PLIST.read_text()


@pytest.mark.skipif(shutil.which("plutil") is None, reason="plutil is macOS's")
def test_plutil_lint() -> None:
    result = subprocess.run(["plutil", "-lint", str(PLIST)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
