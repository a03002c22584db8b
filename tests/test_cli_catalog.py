import json
import subprocess
import sys

from typer.testing import CliRunner

from cli import app
from spaces import SPACES

runner = CliRunner()


def test_spaces_lists_every_space_with_ranges_and_reference_values():
    result = runner.invoke(app, ["spaces", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["space"]: row for row in json.loads(result.output)}
    assert set(rows) == set(SPACES)
    n_conv = next(d for d in rows["convnet"]["dimensions"] if d["name"] == "n_conv")
    assert n_conv["values"] == "1..10" and n_conv["reference"] == 6
    assert [d["name"] for d in rows["lenet5"]["dimensions"]] == [
        "optimizer",
        "learning_rate",
        "batch_size",
        "weight_decay",
        "label_smoothing",
        "lr_schedule",
    ]
    text = runner.invoke(app, ["spaces"]).output
    assert "alexnet" in text and "first_kernel" in text


def test_catalog_commands_do_not_import_keras():
    for command in ("spaces", "datasets"):
        code = (
            "import sys; from typer.testing import CliRunner; import cli; "
            f"r = CliRunner().invoke(cli.app, [{command!r}]); "
            "assert r.exit_code == 0, r.output; print(sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('keras', 'tensorflow')))"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == "[]", f"{command} imported {out.stdout}"
