# @title Course setup: run this cell first { display-mode: "form" }
# Stamped from bios740/tools/setup_cell.py by `nbtool stamp`: edit it there, not here.
import os, subprocess, sys  # noqa: E401, I001
from pathlib import Path

COURSE_REPOSITORY = "https://github.com/bios740-unc/BIOS740"
HERE, DRIVE = Path.cwd(), os.environ.get("BIOS740_DRIVE", "/content/drive")
COURSE_ROOT = next((p for p in (HERE, *HERE.parents) if (p / "bios740/colab.py").is_file()), None)
if COURSE_ROOT is None and "google.colab" in sys.modules:  # new Colab runtime: course on Drive
    __import__("google.colab.drive").colab.drive.mount(DRIVE)
    COURSE_ROOT = Path(os.environ.get("BIOS740_COURSE", f"{DRIVE}/MyDrive/BIOS740"))
    if not COURSE_ROOT.exists():
        subprocess.run(["git", "clone", COURSE_REPOSITORY, str(COURSE_ROOT)], check=True)
sys.path.insert(0, str(COURSE_ROOT or HERE))
CHAPTER_DIR = __import__("bios740.colab").colab.setup_notebook(COURSE_ROOT, COURSE_REPOSITORY)
