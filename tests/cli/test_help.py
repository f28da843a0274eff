"""--help names every value: no option of any command is typed TEXT (issue 19); free text is named
after its option, as argparse does, and method parameters show their declared type."""
import re
import subprocess


def help_of(subset_bin, *command):
    out = subprocess.run([subset_bin, *command, "--help"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout


def commands_of(help_text):
    listing = help_text.split("\nSubcommands:\n", 1)[1] if "\nSubcommands:\n" in help_text else ""
    return re.findall(r"^  ([a-z][a-z-]*)", listing, re.M)


def every_command(subset_bin, path=()):
    for name in commands_of(help_of(subset_bin, *path)):
        yield path + (name,)
        yield from every_command(subset_bin, path + (name,))


def test_no_option_of_any_command_is_typed_text(subset_bin):
    commands = list(every_command(subset_bin))
    assert ("select",) in commands and ("al", "query") in commands and len(commands) >= 18
    for command in [()] + commands:
        for line in help_of(subset_bin, *command).splitlines():
            assert not re.search(r"^\s+\S.* TEXT\b", line), (command, line)


def test_free_text_is_named_after_its_option_and_parameters_keep_their_types(subset_bin):
    select = help_of(subset_bin, "select")
    assert re.search(r"^  store STORE REQUIRED", select, re.M)
    assert re.search(r"^  -o,--output OUTPUT REQUIRED", select, re.M)
    assert re.search(r"^  --indices-out INDICES_OUT ", select, re.M)
    # Method parameters: their schema's type, choices and range (libsubset/select: kmeans's init).
    assert re.search(r"^  --init \{k-means\+\+,random\}", select, re.M)
    assert re.search(r"^  --score-epochs INT", select, re.M)
    assert re.search(r"^  --threads INT", help_of(subset_bin), re.M)
