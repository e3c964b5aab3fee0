"""Compiler options for the project's own code (not for external repositories).

System libraries (@relacy, @absl, @gtest, @benchmark) are found in
/usr/include, a system include directory, so their headers never trigger
these warnings.
"""

# -g: reports name struct fields from kmc's own DWARF (sync/internal/debuginfo.h).
KMC_COPTS = [
    "-g",
    "-Wall",
    "-Wextra",
    "-Werror",
    # A frame larger than a page probes every page it spans, so a task with
    # big locals hits its stack's guard region instead of jumping past it.
    "-fstack-clash-protection",
    # Shared<T>'s operators without a source_location argument (an implicit
    # read, ++) name their caller's line from their return address; a
    # sibling call would return past the caller.
    "-fno-optimize-sibling-calls",
]

KMC_TEST_COPTS = KMC_COPTS
