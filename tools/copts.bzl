"""Compiler options for the project's own code (not for external repositories).

System libraries (@relacy, @absl, @gtest, @benchmark) are found in
/usr/include, a system include directory, so their headers never trigger
these warnings.
"""

KMC_COPTS = [
    "-Wall",
    "-Wextra",
    "-Werror",
]

KMC_TEST_COPTS = KMC_COPTS
