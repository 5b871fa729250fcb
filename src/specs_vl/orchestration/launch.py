"""Training stages in processes of their own: `accelerate launch ... -m specs_vl.cli STAGE`.

`specs pipeline` runs the training stages this way when the run config has a
`launcher` (an accelerate config file and/or a process count), so a 7B model
trains sharded under DeepSpeed ZeRO-3 or FSDP on every GPU instead of in one
plain process. The child is the same `specs` command a user would launch by
hand, reading a copy of the run config.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from specs_vl.util.errors import TrainingError
from specs_vl.util.progress import say


def launch_command(launcher: Any, stage_args: list[str]) -> list[str]:
    """The argv: accelerate's own launcher module, so the same Python environment runs it."""
    cmd = [sys.executable, "-m", "accelerate.commands.launch"]
    if launcher.config_file:
        cmd += ["--config_file", str(launcher.config_file)]
    if launcher.num_processes:
        cmd += ["--num_processes", str(launcher.num_processes)]
    # accelerate launch's multi-node flags (accelerate/commands/launch.py: --num_machines, --machine_rank,
    # --main_process_ip, --main_process_port), each over the config file's value
    for key in ("num_machines", "machine_rank", "main_process_ip", "main_process_port"):
        value = getattr(launcher, key, None)
        if value is not None:
            cmd += [f"--{key}", str(value)]
    return [*cmd, "-m", "specs_vl.cli", *stage_args]


def launch_stage(launcher: Any, stage_args: list[str], name: str) -> None:
    """Run one training stage under accelerate; a failed launch is a TrainingError naming the stage."""
    cmd = launch_command(launcher, stage_args)
    say(f"{name}: {' '.join(cmd)}")
    done = subprocess.run(cmd, check=False)
    if done.returncode != 0:
        raise TrainingError(
            f"{name}: `accelerate launch` exited with status {done.returncode}; its output is "
            "above. The stage resumes from its last checkpoint when the pipeline is run again"
        )
