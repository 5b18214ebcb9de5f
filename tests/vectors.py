"""Load FluxOS oracle vectors from ../shared/vectors (beside the repository, as in CI)."""
import json
import os
from functools import cache
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent.parent
SHARED_DIR = Path(os.environ.get("FLUXPANEL_SHARED_DIR", REPO_DIR.parent / "shared"))
VECTORS_DIR = SHARED_DIR / "vectors"


@cache
def load(name: str):
    """The parsed JSON of vectors/<name>.json (e.g. load("signatures"))."""
    return json.loads((VECTORS_DIR / f"{name}.json").read_text(encoding="utf-8"))


def case_ids(cases: list[dict]) -> list[str]:
    return [str(case.get("id", index)) for index, case in enumerate(cases)]
