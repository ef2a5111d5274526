#include "routing/selector.hpp"

#include <gtest/gtest.h>

using namespace switchboard::routing;
using namespace std::chrono_literals;

namespace {

attributes billing_agent() {
  attributes a;
  a.skills["billing"] = 70;
  a.labels["language"] = "es";
  a.labels["tier"] = "10";
  return a;
}

bool holds(std::string_view text, const attributes& attrs = billing_agent()) {
  auto parsed = parse_selectors(text);
  EXPECT_TRUE(parsed) << text << ": " << parsed.error->to_string();
  EXPECT_EQ(parsed.selectors.size(), 1u) << text;
  return matches(parsed.selectors.front(), attrs);
}

parse_error error_of(std::string_view text) {
  auto parsed = parse_selectors(text);
  EXPECT_FALSE(parsed) << text << " should not parse";
  EXPECT_TRUE(parsed.selectors.empty());
  return parsed.error.value_or(parse_error{});
}

} // namespace

// -- semantics
// ---------------------------------------------------------------------

TEST(selector, skill_comparisons_are_numeric) {
  EXPECT_TRUE(holds("skill.billing == 70"));
  EXPECT_TRUE(holds("skill.billing = 70"));
  EXPECT_FALSE(holds("skill.billing == 71"));
  EXPECT_TRUE(holds("skill.billing != 71"));
  EXPECT_FALSE(holds("skill.billing != 70"));
  EXPECT_TRUE(holds("skill.billing > 69"));
  EXPECT_FALSE(holds("skill.billing > 70"));
  EXPECT_TRUE(holds("skill.billing >= 70"));
  EXPECT_FALSE(holds("skill.billing >= 71"));
  EXPECT_TRUE(holds("skill.billing < 71"));
  EXPECT_FALSE(holds("skill.billing < 70"));
  EXPECT_TRUE(holds("skill.billing <= 70"));
  EXPECT_FALSE(holds("skill.billing <= 69"));
  EXPECT_TRUE(holds("skill.billing in (10, 70)"));
  EXPECT_FALSE(holds("skill.billing in (10, 71)"));
  EXPECT_TRUE(holds("skill.billing exists"));
  EXPECT_TRUE(holds("skill.billing"));
}

TEST(selector, a_missing_key_fails_everything_but_ne) {
  for (auto text :
       {"skill.sales == 0", "skill.sales > 0", "skill.sales >= 0",
        "skill.sales < 100", "skill.sales <= 100", "skill.sales in (0)",
        "skill.sales exists", "label.site == x"})
    EXPECT_FALSE(holds(text)) << text;
  EXPECT_TRUE(holds("skill.sales != 50"));
  EXPECT_TRUE(holds("label.site != lisbon"));
}

TEST(selector, labels_compare_as_integers_only_when_both_are) {
  EXPECT_TRUE(holds("label.tier > 9"));        // 10 > 9 as integers
  EXPECT_TRUE(holds("label.tier == 010"));     // 10 == 10 as integers
  EXPECT_TRUE(holds("label.language > en"));   // "es" > "en" as text
  EXPECT_FALSE(holds("label.language == ES")); // text is case-sensitive
  EXPECT_TRUE(holds("label.language in (pt, es)"));
  EXPECT_FALSE(holds("label.language in (pt, en)"));
}

TEST(selector, relax_after_bounds_the_time_a_selector_applies) {
  auto parsed = parse_selectors("skill.billing >= 90 relax after 30s");
  ASSERT_TRUE(parsed);
  auto& x = parsed.selectors.front();
  EXPECT_TRUE(is_active(x, 0s));
  EXPECT_TRUE(is_active(x, 30s - 1us));
  EXPECT_FALSE(is_active(x, 30s));
  auto plain = parse_selectors("skill.billing >= 90");
  EXPECT_TRUE(is_active(plain.selectors.front(), 100h));
}

// -- parsing
// -----------------------------------------------------------------------

TEST(selector_parse, reads_the_documented_example) {
  auto parsed
    = parse_selectors("skill.billing >= 60 and label.language in (es, pt)");
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed.selectors.size(), 2u);
  auto& billing = parsed.selectors[0];
  EXPECT_EQ(billing.kind, selector_kind::skill);
  EXPECT_EQ(billing.name, "billing");
  EXPECT_EQ(billing.op, selector_op::ge);
  EXPECT_EQ(billing.values, std::vector<std::string>{"60"});
  auto& language = parsed.selectors[1];
  EXPECT_EQ(language.kind, selector_kind::label);
  EXPECT_EQ(language.op, selector_op::in);
  EXPECT_EQ(language.values, (std::vector<std::string>{"es", "pt"}));
}

TEST(selector_parse, reads_relaxation_durations_in_every_unit) {
  auto parsed = parse_selectors(
    "skill.a relax after 500ms AND skill.b exists RELAX AFTER 30s and "
    "skill.c >= 1 relax after 2m and skill.d < 5 relax after 1h");
  ASSERT_TRUE(parsed) << parsed.error->to_string();
  ASSERT_EQ(parsed.selectors.size(), 4u);
  EXPECT_EQ(parsed.selectors[0].relax_after, 500ms);
  EXPECT_EQ(parsed.selectors[1].relax_after, 30s);
  EXPECT_EQ(parsed.selectors[2].relax_after, 2min);
  EXPECT_EQ(parsed.selectors[3].relax_after, 1h);
}

TEST(selector_parse, reads_quoted_values) {
  auto parsed = parse_selectors(R"(label.team == "Tier 2 \"gold\"")");
  ASSERT_TRUE(parsed) << parsed.error->to_string();
  EXPECT_EQ(parsed.selectors[0].values[0], "Tier 2 \"gold\"");
}

TEST(selector_parse, empty_text_is_no_selectors) {
  auto parsed = parse_selectors("   ");
  EXPECT_TRUE(parsed);
  EXPECT_TRUE(parsed.selectors.empty());
}

TEST(selector_parse, round_trips_through_text) {
  for (auto text :
       {"skill.billing >= 60", "label.language in (es, pt)",
        "skill.vip exists relax after 45s", "label.site != lisbon",
        R"(label.team == "Tier 2")", "skill.a < 5 and skill.b > 5",
        "skill.a exists and label.b exists", "label.x == y relax after 250ms",
        "label.x <= 7 relax after 2h"}) {
    auto parsed = parse_selectors(text);
    ASSERT_TRUE(parsed) << text;
    EXPECT_EQ(to_string(parsed.selectors), text);
  }
}

TEST(selector_parse, names_the_column_and_what_was_expected) {
  auto e = error_of("skill.billing >= 60 and label.language ~ es");
  EXPECT_EQ(e.column, 40u);
  EXPECT_EQ(e.message, "expected an operator (==, !=, >, >=, <, <=, in, "
                       "exists) after 'label.language', found '~'");
  EXPECT_EQ(e.to_string().rfind("column 40: ", 0), 0u);
}

TEST(selector_parse, rejects_unknown_key_kinds) {
  auto e = error_of("skills.billing >= 60");
  EXPECT_EQ(e.column, 1u);
  EXPECT_NE(e.message.find("skill.NAME or label.NAME"), std::string::npos);
  EXPECT_EQ(error_of("billing >= 60").column, 1u);
  EXPECT_EQ(error_of("skill. >= 60").column, 1u);
}

TEST(selector_parse, rejects_proficiencies_outside_0_to_100) {
  auto e = error_of("skill.billing >= 101");
  EXPECT_EQ(e.column, 18u);
  EXPECT_EQ(e.message, "a skill proficiency is an integer 0..100, found '101'");
  EXPECT_EQ(error_of("skill.billing == high").column, 18u);
  EXPECT_EQ(error_of("skill.billing in (10, x)").column, 23u);
}

TEST(selector_parse, rejects_durations_past_ten_years) {
  // Found by the fuzzer: the count overflowed when turned into time.
  auto e = error_of("skill.a >= 1 relax after 133921316827125064ms");
  EXPECT_EQ(e.column, 26u);
  EXPECT_EQ(e.message.rfind("a duration must be at most ten years", 0), 0u)
    << e.message;
  EXPECT_EQ(error_of("skill.a >= 1 apply after 87601h").column, 26u);
  auto ok = parse_selectors("skill.a >= 1 relax after 87600h");
  ASSERT_TRUE(ok) << ok.error->to_string();
  EXPECT_EQ(ok.selectors[0].relax_after, std::chrono::hours{87600});
}

TEST(selector_parse, rejects_a_clause_that_would_never_apply) {
  // Found by the fuzzer: it parsed, and only the API refused it.
  auto e = error_of("skill.a >= 1 and label.b == x apply after 2h relax "
                    "after 1h");
  EXPECT_EQ(e.column, 18u);
  EXPECT_NE(e.message.find("relax_after must come after apply_after"),
            std::string::npos)
    << e.message;
}

TEST(selector_parse, rejects_a_missing_value) {
  auto e = error_of("label.language ==");
  EXPECT_EQ(e.column, 18u);
  EXPECT_EQ(e.message, "expected a value, found the end of the text");
}

TEST(selector_parse, rejects_bad_lists) {
  EXPECT_EQ(error_of("label.language in es").message,
            "expected '(' to open the list after 'in', found 'es'");
  auto e = error_of("label.language in (es pt)");
  EXPECT_EQ(e.column, 23u);
  EXPECT_EQ(e.message, "expected ',' or ')' in the list, found 'pt'");
  EXPECT_EQ(error_of("label.language in (es,").column, 23u);
}

TEST(selector_parse, rejects_bad_joins) {
  auto e = error_of("skill.a >= 1 or skill.b >= 1");
  EXPECT_EQ(e.column, 14u);
  EXPECT_EQ(e.message, "expected 'and' or the end of the selectors, found "
                       "'or'");
  EXPECT_EQ(error_of("skill.a >= 1 and").column, 17u);
}

TEST(selector_parse, rejects_bad_durations) {
  EXPECT_EQ(error_of("skill.a relax 30s").message,
            "expected 'after' following 'relax', found '30s'");
  auto e = error_of("skill.a relax after 30 s");
  EXPECT_EQ(e.column, 23u);
  EXPECT_EQ(e.message, "expected a duration unit (ms, s, m, h), found a space");
  EXPECT_EQ(error_of("skill.a relax after 30").message,
            "expected a duration unit (ms, s, m, h), found the end of the "
            "text");
  EXPECT_EQ(error_of("skill.a relax after 30d").column, 23u);
  EXPECT_EQ(error_of("skill.a relax after soon").column, 21u);
}

TEST(selector_parse, rejects_unterminated_quotes) {
  auto e = error_of(R"(label.team == "Tier 2)");
  EXPECT_EQ(e.column, 15u);
  EXPECT_NE(e.message.find("unterminated"), std::string::npos);
}

// -- validation of selectors built in code or received over the API
// ----------------

TEST(selector_validate, accepts_well_formed_selectors) {
  auto parsed
    = parse_selectors("skill.a >= 1 and label.b in (x, y) and label.c exists");
  ASSERT_TRUE(parsed);
  for (auto& x : parsed.selectors)
    EXPECT_EQ(validate(x), std::nullopt) << to_string(x);
}

TEST(selector_validate, names_what_is_wrong) {
  selector x;
  x.kind = selector_kind::skill;
  x.name = "billing";
  x.op = selector_op::ge;
  EXPECT_EQ(validate(x), "selector 'skill.billing >=' needs exactly one value");
  x.values = {"200"};
  EXPECT_EQ(validate(x), "selector 'skill.billing': a skill proficiency is an "
                         "integer 0..100, found '200'");
  x.op = selector_op::in;
  x.values.clear();
  EXPECT_EQ(validate(x),
            "selector 'skill.billing in' needs at least one value");
  x.op = selector_op::exists;
  x.values = {"1"};
  EXPECT_EQ(validate(x), "selector 'skill.billing exists' takes no value");
  x.values.clear();
  x.name = "bad name";
  EXPECT_NE(validate(x), std::nullopt);
  x.name = "ok";
  x.relax_after = -1s;
  EXPECT_EQ(validate(x),
            "selector 'skill.ok': relax_after must not be negative");
}

TEST(selector, steps_become_selectors_that_apply_in_their_window) {
  auto first = parse_selectors("skill.billing >= 80").selectors;
  auto second = parse_selectors("skill.billing >= 50").selectors;
  auto compiled = compile_steps({{first, 30s}, {second, 60s}, {{}, 0s}});
  ASSERT_EQ(compiled.size(), 2u);
  EXPECT_EQ(to_string(compiled[0]), "skill.billing >= 80 relax after 30s");
  EXPECT_EQ(to_string(compiled[1]),
            "skill.billing >= 50 apply after 30s relax after 90s");
  EXPECT_TRUE(is_active(compiled[0], 29s));
  EXPECT_FALSE(is_active(compiled[1], 29s));
  EXPECT_FALSE(is_active(compiled[0], 30s));
  EXPECT_TRUE(is_active(compiled[1], 30s));
  // After the second step, the empty last step: no requirement at all.
  EXPECT_FALSE(is_active(compiled[1], 90s));
  // The compact form reads back what it wrote.
  auto back = parse_selectors(to_string(compiled[1]));
  ASSERT_TRUE(back) << back.error->to_string();
  EXPECT_EQ(back.selectors[0], compiled[1]);
  // The last step applies for good.
  auto last = compile_steps({{first, 30s}, {second, 0s}});
  EXPECT_FALSE(last[1].relax_after.has_value());
  EXPECT_TRUE(is_active(last[1], 100h));
}
