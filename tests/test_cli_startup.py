"""The commands' --help and argument errors import none of the heavy libraries they use only to work
(fairseq, matplotlib, Ray, sacrebleu), so they answer quickly."""

import subprocess
import sys

HEAVY = ("fairseq", "matplotlib", "ray", "sacrebleu")


def imported_by(code: str) -> list[str]:
    probe = f"import sys\n{code}\nprint(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return eval(done.stdout.strip().splitlines()[-1])


def test_the_parsers_of_fairseq_lth_imp_and_lth_report_import_no_heavy_library():
    code = (
        "from fairseq_lth.driver import imp\n"
        "imp.build_parser().parse_args(['--data', 'd', '--out', 'o', '--task', 'lottery_language_modeling'])\n"
        "from shared_mask.report import cli\n"
        "cli.parse_args(['run', '--out', 'report', '--band', 'sem'])\n"
        "from shared_mask.export import cli\n"
        "import shared_mask.status"
    )
    assert imported_by(code) == []


def test_an_argument_error_of_fairseq_lth_imp_is_answered_before_fairseq_is_imported():
    code = (
        "from fairseq_lth.driver import imp\n"
        "try:\n"
        "    imp.main(['--data', 'd', '--out', 'o', '--levels', 'two', '--', '--arch', 'transformer'])\n"
        "except SystemExit as e:\n"
        "    assert e.code == 2, e.code"
    )
    assert imported_by(code) == []


def test_the_plugin_registers_once_imported_even_after_fairseq_lth():
    # fairseq-train's --user-dir imports fairseq_lth after fairseq (every fairseq test runs that way)
    code = "import fairseq_lth, fairseq_lth.plugin\nfrom fairseq.tasks import TASK_REGISTRY\n"
    assert "fairseq" in imported_by(code + "assert 'lottery_language_modeling' in TASK_REGISTRY")
