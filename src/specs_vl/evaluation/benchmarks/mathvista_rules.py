"""Response shapes MathVista's GPT extraction reads in its own way, split out of `mathvista_extract`.

A few-shot prompt invites a runaway continuation: after its answer the model
writes new "Question: ... Solution: ... The answer is X." blocks of its own.
The official GPT extraction reads the response as a whole and writes the
answer found last, which is the last invented block's (on the published
2-shot Claude runs it does so for about three in four such responses, and
takes the model's first answer in nearly none). We do the same, on purpose,
so that the estimate matches the official score: the last block that states
an answer is the text to read. A block that only repeats the prompt ("Hint:
... Question: ... Choices: ...") states none; with no answered block, the
text before the first continuation is read.
"""

from __future__ import annotations

import itertools
import re

_CONTINUATION = re.compile(r"\n\s*(?:Question|Human|User)\s*:", re.IGNORECASE)
# prompt lines a continuation repeats: their "answer the question" is no answer
_PROMPT_LINE = re.compile(r"^\s*(?:Hint|Question|Human|User|Choices)\s*:.*$", re.IGNORECASE | re.MULTILINE)
_STATES_ANSWER = re.compile(r"\b(?:answer is|answer:|answer would be|therefore|thus|so|hence)\b", re.IGNORECASE)


def answered_block(text: str) -> str:
    """The part of a response with runaway few-shot continuations that GPT reads the answer from."""
    marks = [m.start() for m in _CONTINUATION.finditer(text)]
    if not marks or marks[0] < 10:  # no continuation, or the response is all prompt
        return text
    cuts = [0, *marks, len(text)]
    blocks = [text[a:b] for a, b in itertools.pairwise(cuts)]
    answered = [b for b in blocks[1:] if _STATES_ANSWER.search(_PROMPT_LINE.sub("", b))]
    return answered[-1] if answered else blocks[0]
