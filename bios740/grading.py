"""Tools that homework tests use to check the rules of a question, not only its answer.

* :class:`Watch` counts the torch calls made while it is active and fails calls into
  functions that a question puts off limits (by source file or by op name), or too many
  calls (a Python loop where a vectorized answer is asked for).
* :class:`Switched` replaces given library functions by one that fails while active, so
  that a student's function cannot call the function it was asked to write.
"""

from __future__ import annotations

import sys

from torch.overrides import TorchFunctionMode

__all__ = ["Switched", "Watch"]


class Watch(TorchFunctionMode):
    """Counts torch calls; fails those made from inside the files or ops named, or too many."""

    def __init__(self, files=(), ops=()):
        super().__init__()
        self.files, self.ops, self.calls = set(files), tuple(ops), 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.calls += 1
        if self.calls > 20_000:
            raise AssertionError("over 20,000 torch calls: is there a Python loop over boxes?")
        if any(op in str(func) for op in self.ops):
            raise AssertionError(f"{func} is off limits inside your function")
        frame = sys._getframe(1)
        while frame is not None:
            if frame.f_code.co_filename in self.files:
                raise AssertionError(f"{frame.f_code.co_name} is off limits here")
            frame = frame.f_back
        return func(*args, **(kwargs or {}))


class Switched:
    """Replaces the code of the functions given by a failing one while active."""

    def __init__(self, *functions):
        self.functions = functions

    def __enter__(self):
        def off_limits(*args, **kwargs):
            raise AssertionError("a helpers function you were asked to write was called")

        self.saved = [f.__code__ for f in self.functions]
        for f in self.functions:
            f.__code__ = off_limits.__code__
        return self

    def __exit__(self, *exc):
        for f, code in zip(self.functions, self.saved, strict=True):
            f.__code__ = code
