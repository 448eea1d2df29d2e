"""`latchkey completion bash|zsh|fish` (issue 22; docs/cli.md): scripts made
from the binary's own command table, so every command it lists completes,
and a noun's verbs after it; bash's is run here for real."""
import re
import subprocess

from helpers import BIN


def complete(words):
    """What bash completes for the last of words, with the script loaded."""
    script = "source <(%s completion bash); COMP_WORDS=(%s); COMP_CWORD=%d; _latchkey; echo \"${COMPREPLY[*]}\"" % (
        BIN, " ".join(words), len(words) - 1)
    r = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


def test_bash_completes_commands_and_verbs():
    listed = [m.group(1) for m in re.finditer(r"^  ([a-z]+)\b", subprocess.run(
        [BIN, "--help"], capture_output=True, text=True).stdout, re.M)]
    top = complete(["latchkey", "''"])
    assert set(listed) <= set(top), set(listed) - set(top)
    assert complete(["latchkey", "te"]) == ["team"]
    assert complete(["latchkey", "team", "''"]) == ["list", "show", "create", "delete", "members", "add-member",
                                                   "remove-member"]
    assert complete(["latchkey", "token", "r"]) == ["rotate", "revoke"]
    assert complete(["latchkey", "secret", "''"]) == ["list", "get", "put", "delete", "versions"]
    assert "audit" in complete(["latchkey", "operator", "''"])
    assert complete(["latchkey", "completion", "''"]) == ["bash", "zsh", "fish"]
    assert complete(["latchkey", "team", "list", "''"]) == []


def test_zsh_and_fish_scripts_and_usage():
    zsh = subprocess.run([BIN, "completion", "zsh"], capture_output=True, text=True).stdout
    assert zsh.startswith("autoload -U +X bashcompinit && bashcompinit\n") and "complete -F _latchkey latchkey" in zsh
    fish = subprocess.run([BIN, "completion", "fish"], capture_output=True, text=True).stdout
    assert 'complete -c latchkey -n "__fish_seen_subcommand_from team" -a "list show create delete members ' \
           'add-member remove-member"' in fish
    r = subprocess.run([BIN, "completion", "tcsh"], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.startswith("usage: latchkey completion bash|zsh|fish")
