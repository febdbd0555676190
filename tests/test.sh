#!/usr/bin/env bash
# Install what the tests need, then run them: the README's test command, and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q -r requirements-test.txt
# a real browser for the UI test (Debian's Chromium; Playwright must not download its own)
if ! command -v chromium >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && apt-get install -y -qq chromium chromium-driver) >/dev/null
  fi
fi
# small models: one torch thread per process, and one test process per core (a file's tests stay together)
export GRADIO_ANALYTICS_ENABLED=False HF_HUB_OFFLINE=1 MUJOCO_GL=egl OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
python -m pytest -q -n "${PYTEST_WORKERS:-2}" --dist loadfile "$@"
