"""Stop a `specs` subprocess at an exact point, so a test kills it there and not after a delay.

A test runs `python -c RUN ...` (RUN below) with SPECS_PAUSE_AT and SPECS_PAUSE_MARKER set. When the
process reaches the point it creates the marker file and blocks forever; the test waits for the file,
then SIGKILLs it. The point is the same on a busy or an idle machine, so is the outcome of the rerun.

Points:
  saved:<path suffix>       after transformers has finished saving the checkpoint dir ending in <suffix>
  saving:<path suffix>      inside that save, after the weights, before trainer_state.json (a cut-short save)
  generate:<function>:<n>   on entering the n-th `models.sampling.generate` call made inside <function>
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

RUN = (
    "import sys, runpy; sys.path.insert(0, {tests!r}); import kill_points; kill_points.install(); "
    "sys.argv[0] = 'specs'; runpy.run_module('specs_vl.cli', run_name='__main__')"
)


def command(*args: str) -> list[str]:
    """`python -m specs_vl.cli ARGS` with the pause points installed."""
    return [sys.executable, "-c", RUN.format(tests=str(Path(__file__).parent)), *args]


def run_until_paused(cmd: list[str], point: str, marker: Path, cwd: Path | None = None, env: dict | None = None):
    """Start `cmd`, wait until it is paused at `point`, SIGKILL it. Fails if it ends before the point."""
    env = {**os.environ, "SPECS_QUIET": "1", **(env or {}), "SPECS_PAUSE_AT": point, "SPECS_PAUSE_MARKER": str(marker)}
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while not marker.exists():
            try:  # the wait only paces the polling; the exit status is what is checked
                proc.wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                continue
            raise AssertionError(
                f"ended (exit {proc.returncode}) before reaching {point}: {proc.stderr.read().decode()[-3000:]}"
            )
    finally:
        proc.kill()  # SIGKILL
        proc.wait()
        proc.stderr.close()


def _pause() -> None:
    Path(os.environ["SPECS_PAUSE_MARKER"]).write_text(os.environ["SPECS_PAUSE_AT"])
    threading.Event().wait()  # until SIGKILL


def install() -> None:
    """Patch the one library function the point names; nothing else changes."""
    point = os.environ.get("SPECS_PAUSE_AT")
    if not point:
        return
    kind, _, arg = point.partition(":")
    if kind == "saved":
        from transformers import Trainer

        real_save = Trainer._save_checkpoint  # TRL's trainers override it and call super()

        def save_checkpoint(self, model, trial):
            real_save(self, model, trial)
            if os.path.join(self.args.output_dir, f"checkpoint-{self.state.global_step}").endswith(arg):
                _pause()

        Trainer._save_checkpoint = save_checkpoint
    elif kind == "saving":
        from transformers.trainer_callback import TrainerState

        real_json = TrainerState.save_to_json  # transformers 5 Trainer._save_checkpoint writes it last

        def save_to_json(self, json_path):
            if os.path.dirname(json_path).endswith(arg):
                _pause()
            real_json(self, json_path)

        TrainerState.save_to_json = save_to_json
    elif kind == "generate":
        import specs_vl.models.sampling as sampling

        function, _, nth = arg.partition(":")
        real_generate, calls = sampling.generate, [0]

        def generate(*a, **k):
            frame = sys._getframe(1)
            while frame is not None and frame.f_code.co_name != function:
                frame = frame.f_back
            if frame is not None:
                calls[0] += 1
                if calls[0] == int(nth):
                    _pause()
            return real_generate(*a, **k)

        sampling.generate = generate  # before the stages import it by name
    else:
        raise ValueError(f"unknown pause point {point!r}")
