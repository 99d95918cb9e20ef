"""Build the distribution and install the wheel alone in a new virtualenv outside the checkout.

:func:`build_dists` copies the files git knows (tracked, or new and not ignored) to a
scratch folder, as a fresh clone would have them, and runs ``python -m build
--no-isolation`` there: the sdist first, then the wheel built *from the sdist*, so both are
exercised. ``--no-isolation`` builds with the pinned ``setuptools`` of requirements-dev.txt
instead of downloading one: tests talk only to loopback.

:func:`make_wheel_venv` makes a virtualenv outside the repository in which the wheel is the
only thing installed (``pip install --no-deps --no-index``). Its dependencies are not
downloaded either: a ``.pth`` file appends the project virtualenv's site-packages, which
holds exactly the pinned versions the wheel requires (``pip check`` proves they satisfy
its metadata) and neither ``gamelift_backfill`` nor ``providers``. So in that virtualenv
``gamelift_backfill`` can only come from the wheel, and ``providers`` is not importable.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
DEPENDENCIES_PTH = "gamelift-backfill-test-dependencies.pth"


@dataclass(frozen=True)
class Dists:
    """What ``python -m build`` produced."""

    sdist: Path
    wheel: Path


@dataclass(frozen=True)
class WheelVenv:
    """A virtualenv with only the wheel installed (see the module docstring)."""

    root: Path
    site_packages: Path

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"

    def script(self, name: str) -> Path:
        """A console script the wheel installed."""
        return self.root / "bin" / name


def _run(*args: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def source_files(repository: Path = REPOSITORY) -> list[str]:
    """The files a fresh clone would have, plus new ones not ignored (work in progress)."""
    listed = _run("git", "ls-files", "--cached", "--others", "--exclude-standard", cwd=repository)
    return [name for name in listed.splitlines() if (repository / name).is_file()]


def build_dists(scratch: Path, repository: Path = REPOSITORY) -> Dists:
    """Copy the sources to ``scratch/src`` and build the sdist and the wheel into ``dist``."""
    source, out = scratch / "src", scratch / "dist"
    for name in source_files(repository):
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(repository / name, target)
    _run(sys.executable, "-m", "build", "--no-isolation", "--outdir", out, source)
    [sdist] = out.glob("*.tar.gz")
    [wheel] = out.glob("*.whl")
    return Dists(sdist=sdist, wheel=wheel)


def make_wheel_venv(wheel: Path, root: Path) -> WheelVenv:
    """A new virtualenv at ``root`` with ``wheel`` installed and the pinned dependencies
    visible; raises if pip finds them not to satisfy the wheel's requirements."""
    _run(sys.executable, "-m", "venv", "--without-pip", root)
    python = root / "bin" / "python"
    purelib = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    site_packages = Path(purelib.strip())
    (site_packages / DEPENDENCIES_PTH).write_text(sysconfig.get_paths()["purelib"] + "\n")
    pip = (sys.executable, "-m", "pip", "--python", python, "--disable-pip-version-check")
    _run(*pip, "install", "--quiet", "--no-deps", "--no-index", wheel)
    _run(*pip, "check")
    return WheelVenv(root=root, site_packages=site_packages)
