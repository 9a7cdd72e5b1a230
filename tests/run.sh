#!/usr/bin/env bash
# The one test command: installs what the tests need, then runs them.
#   bash tests/run.sh            # everything
#   bash tests/run.sh -k layers  # extra arguments go to pytest
set -euo pipefail
cd "$(dirname "$0")/.."

# The browser tests drive Debian's chromium (never a downloaded browser).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's chromium for the browser tests..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "chromium is not installed and this shell cannot apt-get it;" \
         "the browser tests will fail in CI and be skipped locally." >&2
  fi
fi

python -m pip install -q --disable-pip-version-check -r requirements.txt -r tests/requirements.txt
exec python -m pytest "$@"
