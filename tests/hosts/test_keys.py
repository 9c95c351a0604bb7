"""Key directories: what ``holdemd keys init`` writes, re-runs, and what the head and nodes load
(holdemd/hosts/keys.py), through the library and the ``holdemd keys`` command."""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest
import zmq

from holdemd.cli import main
from holdemd.errors import ExitCode
from holdemd.hosts.keys import (
    KeysError,
    init_keys,
    list_keys,
    load_head_keys,
    load_node_keys,
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def contents(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


def test_init_makes_private_secrets_and_loads_back(tmp_path):
    keys = tmp_path / "keys"
    result = init_keys(keys, ["alpha", "beta"])
    assert (result.made, result.kept) == (["head", "alpha", "beta"], [])
    assert mode(keys) == 0o700
    for name in ("head", "alpha", "beta"):
        assert mode(keys / f"{name}.key_secret") == 0o600
        assert "secret-key" not in (keys / f"{name}.key").read_text()
    head = load_head_keys(keys)
    assert sorted(head.hosts.values()) == ["alpha", "beta"]
    assert zmq.curve_public(head.secret) == head.public
    alpha = load_node_keys(keys, "alpha")
    assert alpha.head_public == head.public
    assert head.hosts[alpha.public] == "alpha"
    assert zmq.curve_public(alpha.secret) == alpha.public
    assert alpha.secret.decode() not in repr(alpha) and head.secret.decode() not in repr(head)


def test_a_rerun_adds_hosts_and_never_changes_existing_keys(tmp_path):
    keys = tmp_path / "keys"
    init_keys(keys, ["alpha", "beta"])
    before = contents(keys)
    (keys / "beta.key_secret").unlink()  # moved to host beta, as the listing says to
    result = init_keys(keys, ["beta", "gamma", "gamma"])
    assert (result.made, result.kept) == (["gamma"], ["head", "beta"])
    after = contents(keys)
    assert "beta.key_secret" not in after  # not re-made: beta keeps the secret it has
    for name, data in before.items():
        if name != "beta.key_secret":
            assert after[name] == data, name
    assert set(load_head_keys(keys).hosts.values()) == {"alpha", "beta", "gamma"}


def test_a_missing_public_file_is_restored_from_its_secret(tmp_path):
    keys = tmp_path / "keys"
    init_keys(keys, ["alpha"])
    public = (keys / "alpha.key").read_bytes()
    (keys / "alpha.key").unlink()
    assert init_keys(keys, ["alpha"]).kept == ["head", "alpha"]
    assert (keys / "alpha.key").read_bytes().split(b"\n")[1:] == public.split(b"\n")[1:]


def test_a_node_loads_the_two_files_systemd_gives_it(tmp_path, monkeypatch):
    """$CREDENTIALS_DIRECTORY holds head.key and NAME.key_secret only, read-only; with User=,
    systemd adds an ACL for that user, whose mask shows as group bits: mode 0440."""
    keys, credentials = tmp_path / "keys", tmp_path / "credentials"
    init_keys(keys, ["alpha"])
    credentials.mkdir(mode=0o500)
    for name in ("head.key", "alpha.key_secret"):
        shutil.copy(keys / name, credentials / name)
        os.chmod(credentials / name, 0o440)
    assert "mode 0440" in one_line_error(lambda: load_node_keys(credentials, "alpha"))
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(credentials))
    node, same = load_node_keys(credentials, "alpha"), load_node_keys(keys, "alpha")
    assert (node.name, node.public, node.secret) == ("alpha", same.public, same.secret)
    assert node.head_public == load_head_keys(keys).public
    with pytest.raises(KeysError, match=r"head\.key_secret: missing; give --keys the head's"):
        load_head_keys(credentials)


def one_line_error(call: Callable[[], object]) -> str:
    with pytest.raises(KeysError) as excinfo:
        call()
    assert excinfo.value.exit_code == ExitCode.USAGE
    message = str(excinfo.value)
    assert "\n" not in message
    return message


def test_a_missing_secret_is_a_one_line_error_naming_the_file_and_the_fix(tmp_path):
    keys = tmp_path / "keys"
    init_keys(keys, ["alpha"])
    message = one_line_error(lambda: load_node_keys(keys, "beta"))
    assert message.startswith(f"{keys / 'beta.key_secret'}: missing; copy beta.key_secret")
    assert "holdemd keys init DIR --hosts NAME" in message
    (keys / "head.key_secret").unlink()
    message = one_line_error(lambda: load_head_keys(keys))
    assert message.startswith(f"{keys / 'head.key_secret'}: missing")
    message = one_line_error(lambda: load_node_keys(tmp_path / "nowhere", "alpha"))
    assert message.startswith(f"{tmp_path / 'nowhere'}: no such directory; make the keys with")


def test_unsafe_or_altered_key_files_are_refused(tmp_path):
    keys = tmp_path / "keys"
    init_keys(keys, ["alpha", "beta"])
    secret = keys / "alpha.key_secret"
    os.chmod(secret, 0o644)
    assert f"chmod 600 {secret}" in one_line_error(lambda: load_node_keys(keys, "alpha"))
    os.chmod(secret, 0o600)
    text = secret.read_text()
    _, other = zmq.curve_keypair()
    old = text.split('secret-key = "')[1][:40]
    secret.write_text(text.replace(old, other.decode()))
    assert "does not match its public-key" in one_line_error(lambda: load_node_keys(keys, "alpha"))
    (keys / "beta.key").write_text("hello\n")
    assert "beta.key: no public-key line" in one_line_error(lambda: load_head_keys(keys))
    shutil.copy(keys / "alpha.key", keys / "beta.key")
    assert "the same key as alpha.key" in one_line_error(lambda: load_head_keys(keys))
    os.chmod(keys, 0o777)  # anyone could plant a NAME.key the head would accept
    assert "writable by its group and others" in one_line_error(lambda: load_head_keys(keys))


def test_bad_names_and_a_head_without_hosts_are_refused(tmp_path):
    for name in ("head", "../x", ".hidden", ""):
        assert "a host name is" in one_line_error(partial(init_keys, tmp_path / "k", [name]))
    assert not (tmp_path / "k").exists()
    init_keys(tmp_path / "k", [])
    message = one_line_error(lambda: load_head_keys(tmp_path / "k"))
    assert "no host keys (NAME.key) to accept; add hosts with holdemd keys init" in message
    (tmp_path / "k" / "head.key_secret").unlink()  # a node's copy of the directory
    assert "this is a node's key directory" in one_line_error(
        lambda: init_keys(tmp_path / "k", ["alpha"])
    )


def test_keys_command_init_list_and_errors(tmp_path, capsys):
    keys = tmp_path / "keys"
    assert main(["keys", "init", str(keys), "--hosts", "alpha", "beta"]) == 0
    out = capsys.readouterr().out
    assert f"{keys}: made keys for head, alpha, beta" in out
    assert "the head keeps  head.key_secret alpha.key beta.key" in out
    assert "host alpha  gets head.key alpha.key_secret (then delete alpha.key_secret here)" in out
    assert main(["keys", "init", str(keys), "--hosts", "gamma"]) == 0
    assert "made keys for gamma; kept head (they had keys)" in capsys.readouterr().out
    assert main(["keys", "list", str(keys), "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert [entry["name"] for entry in listing["keys"]] == ["head", "alpha", "beta", "gamma"]
    assert listing["keys"][1]["files"] == ["alpha.key", "alpha.key_secret"]
    assert listing["keys"][1]["public"] == load_node_keys(keys, "alpha").public.decode()
    assert [e.name for e in list_keys(keys)] == ["head", "alpha", "beta", "gamma"]
    assert main(["keys", "list", str(tmp_path / "none")]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert err.startswith(f"holdemd: {tmp_path / 'none'}: no such directory")
    assert err.count("\n") == 1
