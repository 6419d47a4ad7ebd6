#!/usr/bin/env bash
# Regenerates the fidelity suite's golden files from the real programs:
# the bot battery's outputs of Debian's BusyBox 1.35 chrooted into each
# default profile's filesystem (internal/shell/testdata/battery/*.golden,
# *.known, busybox-1.35.applets). Needs root (chroot) and the packages of
# scripts/deps/shell.apt. Review the diff before committing: a changed
# golden file means the real program or the emulated filesystem changed.
set -euo pipefail
cd "$(dirname "$0")/.."
busybox --list > internal/shell/testdata/battery/busybox-1.35.applets
go test -count=1 -run '^TestBattery$' -update-battery -v ./internal/shell | grep -A8 'bot battery'
