// kmc: pictures of a failing execution (`kmc check --out=DIR`).
//
// Built, like the text report, from the execution the runtime recorded last
// (the re-run of a failing execution), so nothing is recorded during the
// search:
//   * trace.json: Chrome trace-event format (Perfetto, chrome://tracing): a
//     track per CPU with process/softirq/hardirq contexts nested, a track
//     per task with one slice per step, lock holds and sleeps as slices,
//     instant events at the failing access (and the other access of a
//     race), flow arrows from a wake-up to the task it woke;
//   * trace.html: one self-contained page (no network, scripts or fonts
//     from elsewhere) drawing the interleaving as lanes, one per task,
//     grouped by CPU, with interrupt contexts drawn over the task they
//     interrupted, lock-hold bars, sleeps, preemptions, the two accesses of
//     a race linked, and every step's source line on hover and click.

#ifndef KMC_SYNC_TRACE_OUT_H_
#define KMC_SYNC_TRACE_OUT_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace kmc {

// `s` as a JSON string literal (quoted, escaped).
std::string JsonString(std::string_view s);

// Longer traces are drawn from their last kTraceOutMaxSteps steps (where the
// failure is); Result::interleaving keeps as many.
inline constexpr size_t kTraceOutMaxSteps = 2000;

// The recorded execution as a Chrome trace-event JSON document.
std::string TraceJson(const std::string& model, const std::string& verdict);

// The recorded execution as a self-contained HTML page; `report` is the text
// report shown under the picture.
std::string TraceHtml(const std::string& model, const std::string& verdict,
                      const std::string& report);

// Writes DIR/<model>/report.txt, trace.json and trace.html (creating the
// directories). Returns the paths written; on failure returns what was
// written so far and sets *error.
std::vector<std::string> WriteTraceFiles(const std::string& dir, const std::string& model,
                                         const std::string& verdict, const std::string& report,
                                         std::string* error);

}  // namespace kmc

#endif  // KMC_SYNC_TRACE_OUT_H_
