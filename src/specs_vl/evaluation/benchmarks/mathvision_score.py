"""MATH-V's official answer extraction and comparison, ported line by line.

Upstream: mathllm/MATH-V at commit a1f5cc3add200c0cd080fad463e500f44ef1fb41
(evaluation/ last changed in 1d36118): `evaluation/evaluate.py` (`evaluate`:
the extraction from `response`, then `is_equal(gold) or is_equal(option
text)`) and `evaluation/utils.py` (`find_math_answer`, `_strip_string` and
its helpers, `eval_tuple`, `is_equal`, `is_number`).

Quirks copied on purpose, so that numbers match the MATH-V leaderboard:
- everything is lowercased, spaces removed, then "(a)".."(e)" and
  "{a}".."{e}" lose their brackets: "(D) 105" is read as "d105", which
  equals neither "D" nor "105";
- the gold option is compared as its raw text ("$\\frac{1}{2}$", dollars
  and spaces included), so an option given in LaTeX rarely matches by value;
- a response that *ends* with " C." or " (C)." or *starts* with "C\\n"
  becomes "C"; "... is 7." becomes "7"; "the answer is" and friends cut the
  text after their last occurrence, up to the line end or ". ";
- with no \\boxed{}, the whole (cut) text goes through `find_math_answer`,
  which keeps what follows the last "=" and drops "units", "km", "m^3";
- values are compared after `round(x, 2)`.

Two differences, neither changing a verdict that upstream can reach:
- upstream evaluates `str(latex2sympy(x))` with Python's `eval` and
  `from math import *`; here that string is read by a small evaluator that
  accepts numbers, + - * / ** and `math` names only (anything else raises,
  which upstream's `except` turns into False as well); powers with huge
  exponents are refused instead of hanging;
- `latex2sympy2` pins an antlr4 that conflicts with math-verify, so
  `latex2sympy2_extended` (from math-verify) parses, with its own
  normalisation off. The two can differ on malformed LaTeX.

A response in our `<think>…</think><answer>…</answer>` format is read from
its answer span; every other response whole, as upstream.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from typing import Any

from latex2sympy2_extended import latex2sympy

from specs_vl.evaluation.benchmarks.mmmu_score import answer_span

# --- a stand-in for `eval(str(latex2sympy(x)))` under `from math import *` ---
_BIN = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.Mod: operator.mod,
    ast.FloorDiv: operator.floordiv,
}
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_NAMES = {k: v for k, v in vars(math).items() if not k.startswith("_")}


def _value(node: ast.AST) -> Any:
    if isinstance(node, ast.Expression):
        return _value(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _BIN:
        left, right = _value(node.left), _value(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > 1000:
            raise ValueError("exponent too large")
        return _BIN[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_value(node.operand))
    if isinstance(node, ast.Name) and node.id in _NAMES:
        return _NAMES[node.id]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and callable(_NAMES.get(node.func.id)):
        args = [_value(a) for a in node.args]
        if node.func.id in ("factorial", "comb", "perm") and any(abs(a) > 10_000 for a in args):
            raise ValueError("argument too large")
        return _NAMES[node.func.id](*args)
    raise ValueError(f"not evaluated: {ast.dump(node)[:40]}")


def _latex2sympy2_prelude(text: str) -> str:
    """The rewrites latex2sympy2 1.9.1 `latex2sympy` makes before parsing (dollars become spaces, ...)."""
    text = text.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac").replace("\\mathrm{T}", "T")
    text = text.replace("\\mathrm{d}", "d").replace("{\\rm d}", "d")
    text = text.replace("\\left[\\begin{matrix}", "\\begin{bmatrix}").replace("\\end{matrix}\\right]", "\\end{bmatrix}")
    text = re.sub(r"\(([a-zA-Z0-9+\-*/\\ ]+?)\)_{([a-zA-Z0-9+\-*/\\ ]+?)}", r"\\frac{(\1)!}{((\1)-(\2))!}", text)
    text = text.replace("\\displaystyle", " ")
    for token in ("\\quad", "\\qquad", "~", "\\,", "$"):
        text = text.replace(token, " ")
    return text


def latex_value(text: str) -> Any:
    """`eval(str(latex2sympy(text)))` as upstream, restricted to arithmetic and `math` names."""
    text = _latex2sympy2_prelude(text)
    if "\\circ" in text:
        raise ValueError("latex2sympy2 1.9.1 reads \\circ as a symbol, which eval cannot name")
    depth = 0
    for i, ch in enumerate(text):  # latex2sympy2 1.9.1's parser stops at a stray "}" and keeps what came before
        depth += (ch == "{") - (ch == "}")
        if depth < 0:
            text = text[:i]
            break
    expr = latex2sympy(text, normalization_config=None)
    return _value(ast.parse(str(expr), mode="eval"))


# --- evaluation/utils.py ---
def is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def eval_tuple(s: str) -> str:
    """ "(2*3, 5+2)" -> "(6,7)": each element of a tuple or list rounded to 2 decimals."""
    sl = s[1:-1].split(",")
    try:
        if s[0] == "(" and s[-1] == ")" and len(sl) > 1:
            s = ",".join(
                [
                    str(round(latex_value(sub), 2)) if "infty" not in sub and sub not in ["a", "-a"] else sub
                    for sub in sl
                ]
            )
            return f"({s})"
        elif s[0] == "[" and s[-1] == "]" and len(sl) > 1:
            s = ",".join(
                [
                    str(round(latex_value(sub), 2)) if "infty" not in sub and sub not in ["a", "-a"] else sub
                    for sub in sl
                ]
            )
            return f"[{s}]"
    except Exception:  # noqa: BLE001 -- upstream: any failure keeps the text
        return s
    return s


def is_equal(asw: str, gt_asw: str) -> bool:
    """Equal as text (lowercased), as tuples, or as values rounded to 2 decimals."""
    asw = asw.lower()
    gt_asw = gt_asw.lower()
    if asw.replace(" ", "") == "" or gt_asw.replace(" ", "") == "":
        return False
    if gt_asw.strip() == asw.strip():
        return True
    asw = eval_tuple(asw)
    gt_asw = eval_tuple(gt_asw)
    if gt_asw == asw:
        return True
    try:
        return round(latex_value(gt_asw), 2) == round(latex_value(asw), 2)
    except Exception:  # noqa: BLE001 -- upstream: any failure is not equal
        return False


def _fix_fracs(string: str) -> str:
    substrs = string.split("\\frac")
    new_str = substrs[0]
    if len(substrs) > 1:
        for substr in substrs[1:]:
            new_str += "\\frac"
            if len(substr) > 0 and substr[0] == "{":
                new_str += substr
            else:
                if len(substr) < 2:
                    return string
                a, b = substr[0], substr[1]
                if b != "{":
                    new_str += "{" + a + "}{" + b + "}" + substr[2:]
                else:
                    new_str += "{" + a + "}" + b + substr[2:]
    return new_str


def _fix_a_slash_b(string: str) -> str:
    if len(string.split("/")) != 2:
        return string
    a, b = string.split("/")
    try:
        a, b = int(a), int(b)
        assert string == f"{a}/{b}"
        return "\\frac{" + str(a) + "}{" + str(b) + "}"
    except (ValueError, AssertionError):
        return string


def _fix_sqrt(string: str) -> str:
    if "\\sqrt" not in string:
        return string
    splits = string.split("\\sqrt")
    new_string = splits[0]
    for split in splits[1:]:
        if len(split) > 0 and split[0] != "{":
            new_string += "\\sqrt{" + split[0] + "}" + split[1:]
        else:
            new_string += "\\sqrt" + split
    return new_string


def _strip_string(string: str) -> str:
    string = string.replace("\n", "").replace("\\!", "").replace("\\\\", "\\")
    string = string.replace("tfrac", "frac").replace("dfrac", "frac")
    string = string.replace("\\left", "").replace("\\right", "")
    string = string.replace("^{\\circ}", "").replace("^\\circ", "")
    string = string.replace("\\$", "").replace("$", "")
    string = string.split("\\text{ ")[0]  # _remove_right_units
    string = string.replace("\\%", "")
    string = string.replace(" .", " 0.").replace("{.", "{0.")
    if len(string) == 0:
        return string
    if string[0] == ".":
        string = "0" + string
    if len(string.split("=")) == 2:
        string = string.split("=")[-1]
    if len(string.split("\\approx")) == 2:
        string = string.split("\\approx")[-1]
    if "sqrt" in string:
        string = _fix_sqrt(string)
    string = string.replace(" ", "")
    if "sqrt" in string:  # upstream: _fix_fracs only runs when "sqrt" is present
        string = _fix_fracs(string)
    if string == "0.5":
        string = "\\frac{1}{2}"
    return _fix_a_slash_b(string)


def find_math_answer(s: str) -> str:
    """The content of the last \\boxed{} (else the text), after "=", cleaned of LaTeX and units."""
    s = s.lower()
    if "{}" in s:
        s = s.replace("{}", "")
    found = re.compile("oxed{(.*)}", flags=re.DOTALL).findall(s)
    ans = found[-1] if found else s
    if ans.find("}") != -1 and (ans.find("{") == -1 or ans.find("}") < ans.find("{")):
        ans = ans.split("}")[0]
    ans = ans.split("=")[-1]
    ans = ans.split("\\approx")[-1]
    ans = ans.replace(" ", "").replace("\\,", "").replace("∞", "\\infty")
    ans = ans.replace("+\\infty", "\\infty").replace("\\\\", "\\").replace("\n", "")
    ans = ans.replace("\\text", "").replace("\\mbox", "").replace("bmatrix", "pmatrix")
    ans = ans.replace("\\left", "").replace("\\right", "").replace("^{\\circ}", "")
    ans = ans.replace("^\\circ", "").replace("{m}^3", "").replace("m^3", "")
    ans = ans.replace("{units}", "").replace("units", "").replace("{km}", "").replace("km", "")
    return _strip_string(ans)


# --- evaluation/evaluate.py, `evaluate` ---
_FLAGS = ["the final answer is", "the answer is", "the correct answer is", "the answer should be"]


def extract_mathvision_answer(response: str) -> str:
    """`model_answer` as `evaluate(..., regen_answer=True)` computes it."""
    model_answer = response.strip()
    for c in "ABCDE":
        if model_answer.endswith((f" {c}.", f" ({c}).")) or model_answer.startswith(
            (f"{c}\n", f"({c})\n", f"({c}) {c}\n")
        ):
            model_answer = c
    if is_number(model_answer.split("is ")[-1].rstrip(".")):
        model_answer = model_answer.split("is ")[-1].rstrip(".")
    if "oxed{" not in model_answer:
        for flag in _FLAGS:
            for f in (flag, flag.replace("the", "The")):
                raw_model_answer = model_answer
                model_answer = model_answer.split(f)[-1].strip()
                if f in raw_model_answer:
                    model_answer = model_answer.split("\n")[0].split(". ")[0]
    elif model_answer.count("oxed{") > 1:
        model_answer = "\\boxed{" + model_answer.split("oxed{")[-1]
    model_answer = find_math_answer(model_answer)
    for c in "abcde":
        model_answer = model_answer.replace(f"({c})", c)
    for c in "abcde":
        model_answer = model_answer.replace("{" + c + "}", c)
    return model_answer.rstrip(".").lstrip(":").strip()


def score_mathvision(response: str, answer: str, options: list[str]) -> tuple[str, bool]:
    """(model_answer, correct): the gold letter or value, or the gold option's raw text, equals the answer."""
    gt_answer = str(answer)
    gt_answer_value = options[ord(gt_answer) - ord("A")] if options else ""
    model_answer = extract_mathvision_answer(answer_span(response))
    return model_answer, is_equal(gt_answer, model_answer) or is_equal(gt_answer_value, model_answer)


def score_mathvision_example(response: str, example: dict[str, Any]) -> tuple[str | None, bool]:
    return score_mathvision(response, example["answer"], list(example.get("choices") or []))
