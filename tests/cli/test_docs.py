"""The user guide tells the truth about the CLI: every option that `--help` lists is documented
in docs/cli.md, and every selection method with its parameters in docs/methods/selection.md."""
import re
from pathlib import Path

import pytest

from subset_testing import assert_ok

SUBCOMMANDS = ["import", "info", "select", "extract", "energy", "evaluate", "bench", "compress", "condense", "embed"]


def help_options(run, *command):
    out = assert_ok(run(*command, "--help"))
    options_part = out.split("Options:", 1)[1].split("Subcommands:", 1)[0].split("Methods:", 1)[0]
    return sorted(set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", options_part)) - {"--help"})


def test_global_options_are_documented(run, source_dir):
    doc = (Path(source_dir) / "docs" / "cli.md").read_text()
    for option in help_options(run):
        assert f"`{option}" in doc or f", {option}" in doc, f"{option} missing from docs/cli.md"


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_every_subcommand_option_is_documented(run, source_dir, command):
    cli = (Path(source_dir) / "docs" / "cli.md").read_text()
    methods = (Path(source_dir) / "docs" / "methods" / "selection.md").read_text()
    section = cli.split(f"## `subset {command}", 1)
    assert len(section) == 2, f"docs/cli.md has no section for subset {command}"
    section = section[1].split("\n## ", 1)[0]
    # Parameters are documented in the tables generated from their schemas: a method's under the
    # method (docs/methods/), the others' in the command's own section.
    compression = (Path(source_dir) / "docs" / "methods" / "compression.md").read_text()
    table_row = r"\| `([a-z][a-z0-9-]*)` \|"
    params = set(re.findall(table_row, section))
    if command == "select":
        params |= set(re.findall(table_row, methods))
    if command == "compress":
        params |= set(re.findall(table_row, compression))
    if command == "bench":
        params |= set(re.findall(table_row, cli.split("## `subset evaluate", 1)[1].split("\n## ", 1)[0]))
    for option in help_options(run, command):
        if option[2:] in params:
            continue  # a parameter: in its generated table
        assert f"`{option}" in section or f", {option}" in section, \
            f"{option} of `subset {command}` missing from its section in docs/cli.md"


def test_every_method_has_a_section(run, source_dir):
    out = assert_ok(run("select", "--help"))
    listed = out.split("Methods:", 1)[1].split("\n")
    names = [line.split()[0] for line in listed[1:] if line.startswith("  ") and line.split()]
    assert names, "select --help lists the methods"
    doc = (Path(source_dir) / "docs" / "methods" / "selection.md").read_text()
    for name in names:
        assert f"## `{name}`" in doc, f"method {name} has no section in docs/methods/selection.md"
