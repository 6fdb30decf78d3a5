"""The README's two set-up commands: CI must run the test command verbatim, and both must name real things."""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _commands():
    text = (ROOT / "README.md").read_text()
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)\n```", quick, flags=re.S)


def test_quick_start_has_exactly_two_commands():
    assert len(_commands()) == 2, _commands()


def test_ci_runs_the_readme_test_command_verbatim():
    test_command = _commands()[1].strip()
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert test_command in ci_lines


def test_main_job_config_exists():
    main_command = _commands()[0]
    config = re.search(r"(configs/\S+\.toml)", main_command).group(1)
    assert (ROOT / config).is_file()
