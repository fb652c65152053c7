"""What every step's command line shares: settings as one JSON value, and one-line errors."""

import json
import sys


def add_settings_argument(parser, defaults, note=""):
    """The `--settings` option every step takes: one JSON object over `defaults`."""
    parser.add_argument(
        "--settings",
        default="{}",
        help=f"JSON object over these defaults: {json.dumps(defaults, sort_keys=True)}. {note}",
    )


def load_settings(text, defaults):
    """`defaults` updated with the JSON object `text`; unknown keys are an error."""
    try:
        given = json.loads(text)
    except json.JSONDecodeError as error:
        fail(f"--settings is not valid JSON: {error}")
    if not isinstance(given, dict):
        fail("--settings must be a JSON object")
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        fail(
            f"--settings has unknown key(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(defaults))}"
        )
    return {**defaults, **given}


def fail(message):
    """Stop the step with one line on stderr and a non-zero exit."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(1)
