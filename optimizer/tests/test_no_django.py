"""The optimizer is pure Python: importing all of it loads no Django."""

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_importing_the_optimizer_and_simulator_loads_no_django():
    code = (
        "import sys\n"
        "import optimizer, optimizer.plan, optimizer.model\n"
        "import optimizer.sim.instance, optimizer.sim.engine, optimizer.sim.bound, optimizer.sim.metrics\n"
        "import optimizer.sim.validator, optimizer.sim.bench\n"
        "from optimizer.sim.bench import run_seed\n"
        "run_seed('S', 1, None, optimizer.sim.instance.WorldParams(), check=False)\n"
        "loaded = sorted(m for m in sys.modules if m == 'django' or m.startswith(('django.', 'pedsdesk')))\n"
        "assert not loaded, loaded\n"
        "print('clean')\n"
    )
    result = subprocess.run(  # noqa: S603 -- fixed script, this interpreter
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "clean"


def test_no_source_file_imports_django_or_pedsdesk():
    for path in (ROOT / "optimizer").rglob("*.py"):
        if "tests" in path.parts:
            continue
        for line in path.read_text().splitlines():
            stripped = line.strip()
            assert not stripped.startswith(("import django", "from django", "import pedsdesk", "from pedsdesk")), path
