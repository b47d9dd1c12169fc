#!/usr/bin/env bash
# Runs checkov over infra/ (Bicep). Fails on any failed check and on any Bicep file checkov could not parse
# (checkov itself exits 0 on parsing errors, and an unparsed file is an unchecked file).
# Usage: infra/check.sh [path to checkov]   (default: .venv-checkov/bin/checkov, created by `make lint`)
set -euo pipefail

checkov="${1:-.venv-checkov/bin/checkov}"
infra_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [[ ! -x "$checkov" ]]; then
  echo "infra/check.sh: checkov not found at '$checkov'; run 'make lint' (it creates .venv-checkov)." >&2
  exit 2
fi

status=0
output="$("$checkov" -d "$infra_dir" --framework bicep --skip-download --compact --quiet 2>&1)" || status=$?
printf '%s\n' "$output"

if [[ $status -ne 0 ]]; then
  echo "infra/check.sh: checkov reported failed checks (exit $status)." >&2
  exit "$status"
fi
if grep -Eq 'Parsing errors: [1-9]' <<<"$output"; then
  echo "infra/check.sh: checkov could not parse some Bicep files (see above); tests/unit/test_infra.py names them." >&2
  exit 1
fi
if ! grep -Eq 'Passed checks: [0-9]+' <<<"$output"; then
  echo "infra/check.sh: checkov printed no bicep results; did it find infra/?" >&2
  exit 1
fi
