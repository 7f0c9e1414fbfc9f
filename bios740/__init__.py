"""Shared code for the BIOS 740 deep learning course.

Only code that at least two chapters need lives here; a chapter's own code lives in
its ``helpers.py``. Submodules are imported on demand so that importing the package
stays fast and does not pull in torch for the notebook tooling.
"""

__version__ = "0.1.0"
