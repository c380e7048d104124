#!/usr/bin/env bash
# Runs every fuzz target of the module for FUZZTIME (default 5s) each.
#
# Each input the engine finds interesting is minimized for at most
# FUZZMINIMIZETIME (default 1s): with Go's default of 60s, the first such
# input took the rest of a run (FuzzImport ran 15,752 inputs in the first
# 15 s of a 50 s run and none after; with 1s, 206,304 in a 20 s run), and
# a run that ended while minimizing failed with "context deadline
# exceeded" (once in CI's 5 s, passing when run again).
#
# A target that fails is run once more before the run fails: the fuzzing
# engine can stop without a finding ("fuzzing process hung or terminated
# unexpectedly", "context deadline exceeded") on a loaded machine, and a
# real finding is written to the package's testdata/fuzz, where the second
# run meets it again at once. Each failing run's output is printed.
set -u
go=${GO:-go}
fuzztime=${FUZZTIME:-5s}
minimizetime=${FUZZMINIMIZETIME:-1s}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
pkgs=$($go list ./...) || exit 1
for pkg in $pkgs; do
	tests=$($go test -list 'Fuzz.*' "$pkg") || exit 1
	for f in $(echo "$tests" | grep '^Fuzz'); do
		echo "fuzz $pkg $f"
		for try in 1 2; do
			if $go test -run XXX -fuzz "^$f\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimizetime" "$pkg" >"$out" 2>&1; then
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
