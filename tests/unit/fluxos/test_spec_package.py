"""The spec modules live in one package, each small enough to read in one sitting."""

from pathlib import Path

import fluxpanel.fluxos.specs as specs
from fluxpanel.fluxos.specs.validate import validate_spec


def test_it_exports_the_public_api_from_the_package():
    for name in specs.__all__:
        assert getattr(specs, name) is not None, name
    assert validate_spec is specs.validate_spec


def test_it_keeps_every_fluxos_module_small():
    root = Path(specs.__file__).parents[1]
    for path in root.rglob("*.py"):
        assert len(path.read_text(encoding="utf-8").splitlines()) < 600, path
