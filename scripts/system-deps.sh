#!/usr/bin/env bash
# Installs, when missing, the Debian packages the embedded backends need (Tesseract and its languages,
# and its library's headers: tesserocr is built against the same Tesseract as the command line) and the
# ones the tests need (Chromium, headless: the week view and /docs are checked in a real browser).
set -euo pipefail
need=()
command -v tesseract >/dev/null 2>&1 || need+=(tesseract-ocr)
for lang in deu fra spa ita nld por; do
  dpkg -s "tesseract-ocr-$lang" >/dev/null 2>&1 || need+=("tesseract-ocr-$lang")
done
for pkg in libtesseract-dev libleptonica-dev pkg-config g++; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
# Consumers the export tests feed: Node (ical.js), headless Chromium (FullCalendar; also the week view and
# /docs browser tests), LibreOffice Calc (CSV).
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-calc-nogui)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing system packages: ${need[*]} (install them with apt-get as root)" >&2
  exit 1
fi
echo "installing system packages: ${need[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
