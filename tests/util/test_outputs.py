"""util/outputs.py: the one "fresh directory" rule that stage dirs and eval dirs share."""

from __future__ import annotations

from specs_vl.util.outputs import fresh_dir


def test_fresh_dir_numbers_a_taken_name_and_never_returns_an_existing_path(tmp_path):
    base = tmp_path / "rl-20261203-080000"
    assert fresh_dir(base) == base
    base.mkdir()
    assert fresh_dir(base) == tmp_path / "rl-20261203-080000-2"
    (tmp_path / "rl-20261203-080000-2").mkdir()
    assert fresh_dir(base) == tmp_path / "rl-20261203-080000-3"


def test_the_eval_dir_uses_the_same_rule(tmp_path):
    from specs_vl.evaluation.standalone import default_eval_dir

    first = default_eval_dir("org/qwen", "world-id", root=tmp_path)
    assert first == tmp_path / "org_qwen_world-id"
    first.mkdir()
    assert default_eval_dir("org/qwen", "world-id", root=tmp_path) == tmp_path / "org_qwen_world-id-2"
