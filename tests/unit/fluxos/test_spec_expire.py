"""The `expire` limits by height, as FluxOS applies them (RunOnFlux/flux 845aa9b).

`appUtilities.specificationFormatter` only coerces `expire` (Number(), integer check); it has no
maximum. `appValidator.verifyRestrictionCorrectnessOfApp` owns the limit, from the height it is
given: `maxBlocksAllowance` 264000 before `daemonPONFork` 2020000, `postPonMaxBlocksAllowance`
1056000 from it on.
"""

import pytest

from fluxpanel.fluxos import fluxconfig
from fluxpanel.fluxos.specs import VALIDATOR, check_spec, format_spec
from tests.unit.fluxos.spec_cases import v8_spec, verdict

PRE_PON = fluxconfig.DAEMON_PON_FORK - 1
POST_PON = fluxconfig.DAEMON_PON_FORK


@pytest.mark.parametrize("expire", [1_056_001, 5_000_000, "2000000"])
def test_it_formats_any_integer_expire_without_a_maximum(expire):
    # specificationFormatter: ensureNumber + Number.isInteger, nothing else.
    assert format_spec(v8_spec(expire=expire))["expire"] == int(expire)


@pytest.mark.parametrize(
    ("height", "expire", "expected"),
    [
        (PRE_PON, 264_000, "valid"),
        (PRE_PON, 264_001, "Maximum expiration of application is 264000 blocks ~ 1 year"),
        (PRE_PON, 1_056_001, "Maximum expiration of application is 264000 blocks ~ 1 year"),
        (POST_PON, 1_056_000, "valid"),
        (POST_PON, 1_056_001, "Maximum expiration of application is 1056000 blocks ~ 1 year"),
    ],
)
def test_it_limits_expire_in_the_validator_by_the_height_given(height, expire, expected):
    message, stage = verdict(lambda: check_spec(v8_spec(expire=expire), height))
    assert message == expected
    assert stage == (None if expected == "valid" else VALIDATOR)
