#!/bin/sh
echo "coverage is unavailable offline (stand-in @remote_coverage_tools); bazel coverage does not work in this project" >&2
exit 1
