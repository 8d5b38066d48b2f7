"""The README's commands and example stay true."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
CI_SCRIPT = Path(__file__).resolve().parents[1] / ".ci" / "run"


def _block_after(marker):
    text = README.read_text()
    match = re.search(rf"<!-- {marker} -->\n```bash\n(.+)\n```", text)
    assert match, f"no command after the {marker} marker"
    return match.group(1)


def test_two_one_line_commands():
    assert "python -m pytest" in _block_after("test-command")
    assert "python -m skstexplore" in _block_after("main-command")


def test_ci_reads_the_readme_test_command():
    assert "test-command" in CI_SCRIPT.read_text()


def test_python_example_runs(capsys):
    pytest.importorskip("skstexplore", reason="package importable")
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks
    for code in blocks:
        exec(compile(code, str(README), "exec"), {})
    assert "SEA support recovered" in capsys.readouterr().out
