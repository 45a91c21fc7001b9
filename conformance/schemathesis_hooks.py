"""schemathesis hooks for conformance/run.sh, loaded with SCHEMATHESIS_HOOKS.

Whole numbers go out as JSON integers. JSON Schema counts `5.0` as an
integer, so schemathesis may write an `integer` field that way, and no
keyword can tell it not to; the server reads integers strictly and refuses
`5.0` and `1e2` where it expects one (tests/api/hostile_input/ holds it to
that). Every JSON encoder writes an integer as `5`, so this changes how a
value is spelt, never which value is sent: a case stays valid or invalid
exactly as generated, and a fraction such as `2.5` is left alone.
"""

import schemathesis


def _whole_numbers_as_integers(value):
    if isinstance(value, float) and value.is_integer() and abs(value) <= 2**53:
        return int(value)
    if isinstance(value, list):
        return [_whole_numbers_as_integers(item) for item in value]
    if isinstance(value, dict):
        return {key: _whole_numbers_as_integers(item) for key, item in value.items()}
    return value


@schemathesis.hook
def before_call(context, case, kwargs):
    if isinstance(case.body, (dict, list, float)):
        case.body = _whole_numbers_as_integers(case.body)
