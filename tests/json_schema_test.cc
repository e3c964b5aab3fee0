// `kmc check --json` output validated against docs/kmc-results.schema.json,
// with a validator for the part of JSON Schema the schema uses: type (one
// or a list), required, properties, additionalProperties: false, items,
// enum and minimum.

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sync/model.h"
#include "sync/verdict.h"
#include "tests/json_util.h"

namespace kmc {
namespace {

using testing::JsonParser;
using testing::JsonValue;

std::string Runfile(const std::string& path) {
  std::vector<std::string> candidates;
  if (const char* srcdir = std::getenv("TEST_SRCDIR")) {
    candidates.push_back(std::string(srcdir) + "/kmc/" + path);
  }
  candidates.push_back(path);
  candidates.push_back("kmc/" + path);
  for (const auto& c : candidates) {
    if (access(c.c_str(), R_OK) == 0) return c;
  }
  return "";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool TypeIs(const JsonValue& v, const std::string& type) {
  switch (v.type) {
    case JsonValue::kNull: return type == "null";
    case JsonValue::kBool: return type == "boolean";
    case JsonValue::kNumber:
      return type == "number" || (type == "integer" && std::floor(v.number) == v.number);
    case JsonValue::kString: return type == "string";
    case JsonValue::kArray: return type == "array";
    case JsonValue::kObject: return type == "object";
  }
  return false;
}

bool Equal(const JsonValue& a, const JsonValue& b) {
  if (a.type != b.type) return false;
  switch (a.type) {
    case JsonValue::kNull: return true;
    case JsonValue::kBool: return a.boolean == b.boolean;
    case JsonValue::kNumber: return a.number == b.number;
    case JsonValue::kString: return a.string == b.string;
    default: return false;  // enums here list scalars only
  }
}

// Appends one line per violation of `schema` by `v` at `path`.
void Validate(const JsonValue& schema, const JsonValue& v, const std::string& path,
              std::vector<std::string>* errors) {
  for (const auto& [key, unused] : schema.object) {
    static const char* kKnown[] = {"$schema", "$id", "title", "description", "type", "required",
                                   "properties", "additionalProperties", "items", "enum",
                                   "minimum"};
    bool known = false;
    for (const char* k : kKnown) known |= key == k;
    if (!known) errors->push_back(path + ": the validator does not know keyword " + key);
  }
  if (schema.Has("type")) {
    bool ok = false;
    const JsonValue& t = schema["type"];
    if (t.type == JsonValue::kString) ok = TypeIs(v, t.string);
    for (const JsonValue& one : t.array) ok |= TypeIs(v, one.string);
    if (!ok) {
      errors->push_back(path + ": wrong type");
      return;
    }
  }
  if (schema.Has("enum")) {
    bool ok = false;
    for (const JsonValue& e : schema["enum"].array) ok |= Equal(e, v);
    if (!ok) errors->push_back(path + ": not one of the enum values: " + v.string);
  }
  if (schema.Has("minimum") && v.type == JsonValue::kNumber && v.number < schema["minimum"].number) {
    errors->push_back(path + ": below the minimum");
  }
  if (v.type == JsonValue::kObject) {
    for (const JsonValue& r : schema["required"].array) {
      if (!v.Has(r.string)) errors->push_back(path + ": missing required " + r.string);
    }
    for (const auto& [key, value] : v.object) {
      if (schema["properties"].Has(key)) {
        Validate(schema["properties"][key], value, path + "." + key, errors);
      } else if (schema.Has("additionalProperties") && !schema["additionalProperties"].boolean) {
        errors->push_back(path + ": unexpected property " + key);
      }
    }
  }
  if (v.type == JsonValue::kArray && schema.Has("items")) {
    for (size_t i = 0; i < v.array.size(); ++i) {
      Validate(schema["items"], v.array[i], path + "[" + std::to_string(i) + "]", errors);
    }
  }
}

std::string RunKmc(const std::string& args) {
  const std::string kmc = Runfile("tools/kmc");
  EXPECT_FALSE(kmc.empty()) << "kmc binary not found in the runfiles";
  FILE* p = popen((kmc + " " + args + " 2>/dev/null </dev/null").c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while (p != nullptr && (n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  if (p != nullptr) pclose(p);
  return out;
}

JsonValue Parse(const std::string& text) {
  JsonValue v;
  JsonParser parser(text);
  EXPECT_TRUE(parser.Parse(&v)) << parser.error() << "\n" << text;
  return v;
}

TEST(JsonSchemaTest, TheSchemaIsValidJsonOfTheSupportedSubset) {
  const std::string path = Runfile("docs/kmc-results.schema.json");
  ASSERT_FALSE(path.empty());
  const JsonValue schema = Parse(ReadFile(path));
  EXPECT_EQ(schema["type"].string, "array");
  // The verdict enum is exactly kmc's verdicts.
  std::set<std::string> in_schema, in_code;
  for (const JsonValue& v : schema["items"]["properties"]["verdict"]["enum"].array) {
    in_schema.insert(v.string);
  }
  for (Verdict v : kAllVerdicts) in_code.insert(std::string(VerdictName(v)));
  EXPECT_EQ(in_schema, in_code);
  std::set<std::string> modes;
  for (const JsonValue& v : schema["items"]["properties"]["search"]["enum"].array) {
    modes.insert(v.string);
  }
  EXPECT_EQ(modes, (std::set<std::string>{SearchModeName(SearchMode::kExhaustive),
                                           SearchModeName(SearchMode::kFull),
                                           SearchModeName(SearchMode::kBounded),
                                           SearchModeName(SearchMode::kRandom),
                                           SearchModeName(SearchMode::kPct)}));
}

TEST(JsonSchemaTest, CheckOutputValidates) {
  const JsonValue schema = Parse(ReadFile(Runfile("docs/kmc-results.schema.json")));
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string out = std::string(tmp ? tmp : "/tmp") + "/schema_out";
  const JsonValue results = Parse(RunKmc(
      "check scull/unlocked_write scullpipe/if_not_while mutex/ab_ba scull/writers_and_reader "
      "--json --out=" + out));
  std::vector<std::string> errors;
  // --all_bugs adds each bug's summary.
  Validate(schema, Parse(RunKmc("check scull/unlocked_write --all_bugs --json")), "$", &errors);
  // A PCT run (a failing and a clean model) adds its depth and guarantee.
  const JsonValue pct = Parse(RunKmc(
      "check scullsingle/test_then_decrement seqlock/reader_writer --search=pct --depth=2 "
      "--executions=100 --json"));
  Validate(schema, pct, "$", &errors);
  ASSERT_EQ(pct.array.size(), 2u);
  EXPECT_EQ(pct.array[1]["depth"].number, 2);
  EXPECT_GT(pct.array[1]["pct"]["steps"].number, 0);
  EXPECT_GT(pct.array[1]["pct"]["hit_probability"].number, 0);
  // Fine-grained interleaving adds fine_grained.
  Validate(schema, Parse(RunKmc("check fine/lost_update --json")), "$", &errors);
  // --shard names its part; --jobs merges a large model's shards.
  const JsonValue shard = Parse(RunKmc("check scull/writers_and_reader --shard=1/2 --json"));
  Validate(schema, shard, "$", &errors);
  EXPECT_EQ(shard.array.at(0)["shard"].string, "1/2");
  const JsonValue merged = Parse(RunKmc(
      "check scullpipe/two_writers_one_reader --jobs=2 --max_executions=200 --json"));
  Validate(schema, merged, "$", &errors);
  EXPECT_EQ(merged.array.at(0)["shards"].number, 2);
  EXPECT_EQ(merged.array.at(0)["executions"].number, 400);
  Validate(schema, results, "$", &errors);
  for (const auto& e : errors) ADD_FAILURE() << e;
  ASSERT_EQ(results.array.size(), 4u);
  const JsonValue& race = results.array[0];
  EXPECT_EQ(race["verdict"].string, "data race");
  EXPECT_EQ(race["preemptions"].number, 0);
  EXPECT_GT(race["steps"].number, 10);
  EXPECT_EQ(race["tasks"].array.size(), 2u);
  EXPECT_EQ(race["tasks"].array[0]["name"].string, "writer0/101");
  EXPECT_EQ(race["locations"].array[0]["file"].string, "drivers/scull/main.c");
  EXPECT_EQ(race["locations"].array[0]["function"].string, "scull_follow");
  EXPECT_EQ(race["locations"].array[1]["role"].string, "previous access");
  EXPECT_EQ(race["out"].array.size(), 3u);
  EXPECT_EQ(race["out"].array[2].string, out + "/scull/unlocked_write/trace.html");
  EXPECT_GT(results.array[1]["preemptions"].number, 0);
  const JsonValue& clean = results.array[3];
  EXPECT_EQ(clean["verdict"].string, "clean");
  EXPECT_FALSE(clean.Has("steps"));
  EXPECT_FALSE(clean.Has("out"));
}

TEST(JsonSchemaTest, TheValidatorRejectsWhatTheSchemaForbids) {
  const JsonValue schema = Parse(ReadFile(Runfile("docs/kmc-results.schema.json")));
  std::vector<std::string> errors;
  Validate(schema,
           Parse("[{\"model\": \"m\", \"expected\": \"clean\", \"verdict\": \"oops\", "
                 "\"match\": 1, \"search\": \"exhaustive\", \"complete\": true, "
                 "\"executions\": -1, \"seconds\": 0.5, \"replay\": null, \"extra\": 0}]"),
           "$", &errors);
  // verdict not in the enum, match not a boolean, executions below 0,
  // message missing, extra not allowed.
  EXPECT_EQ(errors.size(), 5u);
}

// --sarif: a SARIF 2.1.0 log with the properties the SARIF schema requires
// (sarifLog: version, runs; run: tool.driver.name; result: message.text;
// codeFlow: threadFlows; threadFlow: locations, at least one), one result
// per failing model at the failing driver line, the interleaving as a code
// flow in execution order.
TEST(JsonSchemaTest, SarifLogHasOneResultPerFailingModel) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string file = std::string(tmp ? tmp : "/tmp") + "/kmc.sarif";
  const JsonValue results = Parse(RunKmc(
      "check scull/unlocked_write scull/writers_and_reader mutex/ab_ba --json --sarif=" + file));
  ASSERT_EQ(results.array.size(), 3u);
  const JsonValue log = Parse(ReadFile(file));
  EXPECT_EQ(log["version"].string, "2.1.0");
  ASSERT_EQ(log["runs"].array.size(), 1u);
  const JsonValue& run = log["runs"].array[0];
  EXPECT_EQ(run["tool"]["driver"]["name"].string, "kmc");
  std::set<std::string> rules;
  for (const JsonValue& r : run["tool"]["driver"]["rules"].array) rules.insert(r["id"].string);
  EXPECT_EQ(rules, (std::set<std::string>{"data race", "deadlock"}));
  // The clean model has no result.
  ASSERT_EQ(run["results"].array.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const JsonValue& res = run["results"].array[i];
    const JsonValue& json = results.array[i == 0 ? 0 : 2];
    EXPECT_EQ(res["ruleId"].string, json["verdict"].string);
    EXPECT_EQ(res["level"].string, "note");  // the models expect their bugs
    EXPECT_NE(res["message"]["text"].string.find(json["message"].string), std::string::npos);
    EXPECT_NE(res["message"]["text"].string.find(json["replay"].string), std::string::npos);
    ASSERT_EQ(res["locations"].array.size(), 1u);
    const JsonValue& where = res["locations"].array[0]["physicalLocation"];
    EXPECT_EQ(where["artifactLocation"]["uri"].string, json["locations"].array[0]["file"].string);
    EXPECT_EQ(where["region"]["startLine"].number, json["locations"].array[0]["line"].number);
    ASSERT_EQ(res["codeFlows"].array.size(), 1u);
    ASSERT_EQ(res["codeFlows"].array[0]["threadFlows"].array.size(), 1u);
    const auto& steps = res["codeFlows"].array[0]["threadFlows"].array[0]["locations"].array;
    ASSERT_FALSE(steps.empty());
    double last = 0;
    for (const JsonValue& s : steps) {
      EXPECT_GT(s["executionOrder"].number, last);
      last = s["executionOrder"].number;
      EXPECT_LE(last, json["steps"].number);
      EXPECT_GE(s["location"]["physicalLocation"]["region"]["startLine"].number, 1);
      EXPECT_FALSE(s["location"]["message"]["text"].string.empty());
    }
    // The last step with a source line is the failure's.
    EXPECT_EQ(last, json["steps"].number);
  }
  const auto& race_steps =
      run["results"].array[0]["codeFlows"].array[0]["threadFlows"].array[0]["locations"].array;
  EXPECT_NE(race_steps.back()["location"]["message"]["text"].string.find(
                "writer1/102 CPU#1 proc: *** BUG: KCSAN: data-race in scull_follow"),
            std::string::npos)
      << race_steps.back()["location"]["message"]["text"].string;
}

}  // namespace
}  // namespace kmc
