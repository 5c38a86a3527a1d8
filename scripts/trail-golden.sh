#!/bin/sh
# Rebuilds the trail's golden files (internal/trail/testdata/): the fixed
# 100-entry log (entries, checkpoint, key) and the golden evidence package.
# Run it only for a deliberate change of the entry encoding, hashing or
# package format, and say so in the commit.
set -eu
cd "$(dirname "$0")/.."
go test ./internal/trail -count=1 -run 'TestGolden' -update
go test ./internal/trail -count=1 -run 'TestGolden'
git status --short internal/trail/testdata
