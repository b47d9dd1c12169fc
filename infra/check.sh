#!/usr/bin/env bash
# Checks infra/'s security properties offline, and reports how many it checked:
#   1. checkov over infra/ (Bicep, parsed with pycep): fails on any failed check and on any Bicep file checkov
#      could not parse (checkov itself exits 0 on parsing errors, and an unparsed file is an unchecked file);
#   2. infra/security_checks.py, with the Python of checkov's venv (it has pycep): what checkov cannot evaluate
#      (a default that depends on a parameter, which resource a diagnostic setting or a role is attached to, what a
#      custom role or a condition allows); fails on any failed property.
# The figure that counts is the sum: the properties security_checks.py checked plus checkov's passed checks that
# add one (security_checks.py CHECKOV_NOT_COUNTED lists the passes that repeat a property it counts, or pass on
# something that is no restriction; they are printed, not added).
# Usage: infra/check.sh [path to checkov]   (default: .venv-checkov/bin/checkov, created by `make lint`)
set -euo pipefail

checkov="${1:-.venv-checkov/bin/checkov}"
infra_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [[ ! -x "$checkov" ]]; then
  echo "infra/check.sh: checkov not found at '$checkov'; run 'make lint' (it creates .venv-checkov)." >&2
  exit 2
fi
python="$(dirname "$checkov")/python"

# CKV_AZURE_189 (Key Vault public network access) crashes on an expression instead of failing (checkov 3.3.30:
# AttributeError on a conditional value); infra/security_checks.py checks that property for both vaults.
reports="$(mktemp -d)"
trap 'rm -rf "$reports"' EXIT
status=0
"$checkov" -d "$infra_dir" --framework bicep --skip-download --compact --skip-check CKV_AZURE_189 \
  -o cli -o json --output-file-path "$reports" >/dev/null 2>&1 || status=$?
output="$(cat "$reports/results_cli.txt" 2>/dev/null || true)"
printf '%s\n' "$output"

if [[ $status -ne 0 ]]; then
  echo "infra/check.sh: checkov reported failed checks (exit $status)." >&2
  exit "$status"
fi
if grep -Eq 'Parsing errors: [1-9]' <<<"$output"; then
  echo "infra/check.sh: checkov could not parse some Bicep files (see above); tests/unit/test_infra.py names them." >&2
  exit 1
fi
passed="$(grep -Eo 'Passed checks: [0-9]+' <<<"$output" | grep -Eo '[0-9]+$' || true)"
if [[ -z "$passed" ]]; then
  echo "infra/check.sh: checkov printed no bicep results; did it find infra/?" >&2
  exit 1
fi

status=0
own="$("$python" "$infra_dir/security_checks.py" "$reports/results_json.json" 2>&1)" || status=$?
printf '%s\n' "$own"
checked="$(grep -Eo 'security properties: [0-9]+ checked' <<<"$own" | grep -Eo '[0-9]+' || true)"
counted="$(grep -Eo "checkov: $passed passed, [0-9]+ counted" <<<"$own" | grep -Eo '[0-9]+ counted' | grep -Eo '[0-9]+' || true)"
if [[ $status -ne 0 || -z "$checked" || -z "$counted" ]]; then
  echo "infra/check.sh: infra/security_checks.py reported failed properties, or did not read checkov's $passed passes (exit $status)." >&2
  exit 1
fi
echo "infra/check.sh: security properties checked: $((counted + checked)) ($checked by infra/security_checks.py + $counted of checkov's $passed passed checks; the other $((passed - counted)) repeat one of those or check no restriction), 0 failed"
