# Course setup: the same in every notebook. Edit bios740/setup_cell.py, never this cell,
# then run `python -m bios740.nbtool stamp`. On Colab it mounts Drive, finds or clones the
# course there, installs what Colab lacks and moves into this notebook's chapter folder.
# Elsewhere it only puts the course and the chapter on sys.path.
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

COURSE_REPOSITORY = "https://github.com/bios740-unc/BIOS740"
COURSE_FOLDER_ON_DRIVE = "BIOS740"
COLAB_EXTRAS = {  # module Colab may lack -> what pip installs
    "nilearn": "nilearn>=0.10.3",
    "neurokit2": "neurokit2>=0.2.7",
    "wfdb": "wfdb>=4.1",
    "pydicom": "pydicom>=2.4",
    "otter": "otter-grader>=6.0",
}


def _is_course_root(path):
    return (path / "bios740" / "setup_cell.py").is_file()


def _chapter_from_colab():
    """Read this notebook from the Colab frontend and find its chapter in the badge URL."""
    from google.colab import _message

    try:
        notebook = _message.blocking_request("get_ipynb", timeout_sec=30)["ipynb"]
        first_cell = "".join(notebook["cells"][0]["source"])
    except Exception:  # the frontend did not answer: fall back to the variable
        first_cell = ""
    found = re.search(r"/(Chapter\d+)/[\w.-]+\.ipynb", first_cell)
    return found.group(1) if found else os.environ.get("BIOS740_CHAPTER")


def _setup_colab():
    from google.colab import drive

    mount_point = Path(os.environ.get("BIOS740_DRIVE", "/content/drive"))
    if not (mount_point / "MyDrive").is_dir():
        drive.mount(str(mount_point))
    my_drive = mount_point / "MyDrive"
    candidates = [my_drive / COURSE_FOLDER_ON_DRIVE, *sorted(my_drive.glob("*/"))]
    root = next((path for path in candidates if _is_course_root(path)), None)
    if root is None:
        root = my_drive / COURSE_FOLDER_ON_DRIVE
        print(f"Cloning the course into {root} (once; later runs reuse it)")
        subprocess.run(["git", "clone", "--depth", "1", COURSE_REPOSITORY, str(root)], check=True)
    missing = [
        spec for module, spec in COLAB_EXTRAS.items() if importlib.util.find_spec(module) is None
    ]
    if missing:
        print("Installing:", " ".join(missing))
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *missing], check=True)
        importlib.invalidate_caches()
    chapter = _chapter_from_colab()
    if chapter is None:
        print("Could not tell this notebook's chapter; set os.environ['BIOS740_CHAPTER'].")
        return root, None
    os.chdir(root / chapter)
    print(f"Course: {root}; working in {chapter}")
    return root, root / chapter


def _course_setup():
    try:
        import google.colab  # noqa: F401  (present only on Colab)
    except ImportError:
        here = Path.cwd()
        root = next((path for path in (here, *here.parents) if _is_course_root(path)), None)
        chapter = here if re.fullmatch(r"Chapter\d+", here.name) else None
    else:
        root, chapter = _setup_colab()
    for folder in (chapter, root):
        if folder is not None and str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
    return root, chapter


COURSE_ROOT, CHAPTER_DIR = _course_setup()
