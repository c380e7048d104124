#!/usr/bin/env bash
# Runs every fuzz target of the module for FUZZTIME (default 5s) each.
#
# Each input the engine finds interesting is minimized for at most
# FUZZMINIMIZETIME (default 1s): with Go's default of 60s, the first such
# input took the rest of a run (FuzzImport ran 15,752 inputs in the first
# 15 s of a 50 s run and none after; with 1s, 206,304 in a 20 s run).
#
# A finding is a failing input written to the package's testdata/fuzz; a
# run that writes one fails make fuzz at once, with its output printed.
#
# Go 1.26's fuzzing coordinator can fail a run that found nothing with
# "context deadline exceeded" just as -fuzztime ends (golang/go#75804,
# fixed in Go 1.27): it checks the deadline of its own context against
# the not yet cancelled context of its workers. CI met it at the end of
# full 5 s runs, twice in a row for one target. Such a run, which wrote
# no failing input, counts as passed and says so. Any other failure that
# wrote no input ("fuzzing process hung or terminated unexpectedly" on a
# loaded machine) is run once more; a second one fails make fuzz.
set -u
go=${GO:-go}
fuzztime=${FUZZTIME:-5s}
minimizetime=${FUZZMINIMIZETIME:-1s}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# The targets are found in the test files' source: `go test -list` would
# build and link every package's test binary (24 s of a 67 s run).
pkgs=$($go list -f '{{.ImportPath}}:{{.Dir}}' ./...) || exit 1
for p in $pkgs; do
	pkg=${p%%:*} dir=${p#*:}
	tests=$(cat "$dir"/*_test.go 2>/dev/null | sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p')
	for f in $tests; do
		echo "fuzz $pkg $f"
		corpus="$dir/testdata/fuzz/$f"
		for try in 1 2; do
			before=$(ls "$corpus" 2>/dev/null)
			if $go test -run XXX -fuzz "^$f\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimizetime" "$pkg" >"$out" 2>&1; then
				break
			fi
			if [ "$(ls "$corpus" 2>/dev/null)" != "$before" ]; then
				echo "fuzz $pkg $f found a failing input:"
				tail -40 "$out"
				exit 1
			fi
			if grep -q "^--- FAIL: $f " "$out" && [ "$(grep -A1 "^--- FAIL: $f " "$out" | tail -1 | tr -d '[:space:]')" = "contextdeadlineexceeded" ]; then
				echo "fuzz $pkg $f: ran its $fuzztime, found nothing, then met Go's fuzztime race (golang/go#75804); counted as passed"
				break
			fi
			echo "fuzz $pkg $f failed (try $try):"
			tail -40 "$out"
			if [ "$try" = 2 ]; then
				exit 1
			fi
		done
	done
done
