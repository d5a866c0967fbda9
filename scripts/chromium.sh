#!/usr/bin/env bash
# chromium.sh: make sure Debian's chromium is installed, for the web console's browser test
# (internal/web/browser_test.go drives it with chromedp). Installs it with apt-get when
# /usr/bin/chromium is missing; does nothing otherwise. Installs poppler-utils along with it:
# internal/letter's tests read the PDF letters back with pdftotext and pdfinfo.
#
# Usage: scripts/chromium.sh
#
# Needs root (or sudo) and apt access, as in CI. Without them it explains what to run and
# fails, so that `make test` does not go on to a browser test that cannot pass.
set -euo pipefail

readonly CHROMIUM=/usr/bin/chromium

if [[ -x $CHROMIUM ]] && command -v pdftotext >/dev/null 2>&1; then
  printf 'chromium: %s\n' "$("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  printf 'chromium.sh: error: %s is missing and there is no apt-get to install it;\n' "$CHROMIUM" >&2
  printf '  install Chromium and link it to %s (the browser test needs it)\n' "$CHROMIUM" >&2
  exit 1
fi

SUDO=()
if ((EUID != 0)); then
  if ! command -v sudo >/dev/null 2>&1; then
    printf 'chromium.sh: error: installing chromium needs root: run  sudo apt-get install chromium\n' >&2
    exit 1
  fi
  SUDO=(sudo)
fi

printf 'chromium: installing chromium and poppler-utils with apt-get (once)\n'
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium poppler-utils >/dev/null
printf 'chromium: %s\n' "$("$CHROMIUM" --version)"
