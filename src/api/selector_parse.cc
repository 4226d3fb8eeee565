// The `labelSelector` query syntax: a lexer and a recursive-descent parser with one token of
// lookahead, following the grammar of Kubernetes' labels.Parse.
#include <fmt/format.h>

#include <cctype>

#include "api/selector.h"

namespace xblocks::api {
namespace {

enum class Token {
  kEnd, kIdentifier, kIn, kNotIn, kComma, kOpenParen, kCloseParen,
  kEquals, kDoubleEquals, kNotEquals, kBang, kGreater, kLess,
};

struct Lexeme {
  Token token = Token::kEnd;
  std::string_view text;
};

bool IsSymbol(char c) {
  return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' || c == '<';
}

bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  Lexeme Next() {
    while (pos_ < text_.size() && IsSpace(text_[pos_])) ++pos_;
    if (pos_ >= text_.size()) return {Token::kEnd, "end of string"};
    if (IsSymbol(text_[pos_])) return Symbol();
    size_t start = pos_;
    while (pos_ < text_.size() && !IsSpace(text_[pos_]) && !IsSymbol(text_[pos_])) ++pos_;
    std::string_view word = text_.substr(start, pos_ - start);
    if (word == "in") return {Token::kIn, word};
    if (word == "notin") return {Token::kNotIn, word};
    return {Token::kIdentifier, word};
  }

 private:
  Lexeme Symbol() {
    std::string_view rest = text_.substr(pos_);
    static constexpr std::pair<std::string_view, Token> kSymbols[] = {
        {"!=", Token::kNotEquals}, {"==", Token::kDoubleEquals}, {"=", Token::kEquals},
        {"!", Token::kBang},       {"(", Token::kOpenParen},     {")", Token::kCloseParen},
        {",", Token::kComma},      {">", Token::kGreater},       {"<", Token::kLess}};
    for (const auto& [symbol, token] : kSymbols) {
      if (rest.substr(0, symbol.size()) == symbol) {
        pos_ += symbol.size();
        return {token, symbol};
      }
    }
    return {Token::kEnd, "end of string"};  // unreachable: IsSymbol() matched one of the above
  }

  std::string_view text_;
  size_t pos_ = 0;
};

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text), lexer_(text) { Advance(); }

  Result<LabelSelector> Parse() {
    std::vector<LabelRequirement> requirements;
    if (current_.token == Token::kEnd) return LabelSelector();
    while (true) {
      auto requirement = ParseRequirement();
      if (!requirement.ok()) return requirement.status();
      requirements.push_back(std::move(*requirement));
      if (current_.token == Token::kEnd) return LabelSelector(std::move(requirements));
      if (current_.token != Token::kComma) return Unexpected("',' or end of string");
      Advance();
      if (current_.token != Token::kIdentifier && current_.token != Token::kBang) {
        return Unexpected("a label key after ','");
      }
    }
  }

 private:
  // In value positions the words "in" and "notin" are plain values.
  Token ValueToken() const {
    if (current_.token == Token::kIn || current_.token == Token::kNotIn) return Token::kIdentifier;
    return current_.token;
  }

  void Advance() { current_ = lexer_.Next(); }

  Status Unexpected(std::string_view expected) const {
    return BadRequest(fmt::format("invalid label selector \"{}\": found '{}', expected {}", text_,
                                  current_.text, expected));
  }

  Result<LabelRequirement> ParseRequirement() {
    bool negated = current_.token == Token::kBang;
    if (negated) Advance();
    if (current_.token != Token::kIdentifier) return Unexpected("'!' or a label key");
    std::string key(current_.text);
    Advance();

    if (negated || current_.token == Token::kEnd || current_.token == Token::kComma) {
      return Build(std::move(key), negated ? LabelOperator::kDoesNotExist : LabelOperator::kExists, {});
    }
    auto op = ParseOperator();
    if (!op.ok()) return op.status();
    auto values = (*op == LabelOperator::kIn || *op == LabelOperator::kNotIn) ? ParseValueList()
                                                                              : ParseSingleValue();
    if (!values.ok()) return values.status();
    return Build(std::move(key), *op, std::move(*values));
  }

  Result<LabelOperator> ParseOperator() {
    LabelOperator op;
    switch (current_.token) {
      case Token::kEquals:
      case Token::kDoubleEquals: op = LabelOperator::kEquals; break;
      case Token::kNotEquals: op = LabelOperator::kNotEquals; break;
      case Token::kIn: op = LabelOperator::kIn; break;
      case Token::kNotIn: op = LabelOperator::kNotIn; break;
      case Token::kGreater: op = LabelOperator::kGreaterThan; break;
      case Token::kLess: op = LabelOperator::kLessThan; break;
      default: return Unexpected("one of '=', '==', '!=', 'in', 'notin', '>', '<'");
    }
    Advance();
    return op;
  }

  // The value after '=', '==', '!=', '>' or '<'; empty when the requirement ends there.
  Result<std::vector<std::string>> ParseSingleValue() {
    if (current_.token == Token::kEnd || current_.token == Token::kComma) {
      return std::vector<std::string>{""};
    }
    if (ValueToken() != Token::kIdentifier) return Unexpected("a label value");
    std::string value(current_.text);
    Advance();
    return std::vector<std::string>{std::move(value)};
  }

  // "(a,b)". Empty entries, as in "()", "(a,)" or "(,a)", are the empty value.
  Result<std::vector<std::string>> ParseValueList() {
    if (current_.token != Token::kOpenParen) return Unexpected("'('");
    Advance();
    std::vector<std::string> values;
    bool expect_value = true;
    while (true) {
      if (ValueToken() == Token::kIdentifier && expect_value) {
        values.emplace_back(current_.text);
        expect_value = false;
      } else if (current_.token == Token::kComma) {
        if (expect_value) values.emplace_back("");
        expect_value = true;
      } else if (current_.token == Token::kCloseParen) {
        if (expect_value) values.emplace_back("");
        Advance();
        return values;
      } else {
        return Unexpected(expect_value ? "a label value, ',' or ')'" : "',' or ')'");
      }
      Advance();
    }
  }

  Result<LabelRequirement> Build(std::string key, LabelOperator op, std::vector<std::string> values) {
    auto requirement = MakeLabelRequirement(std::move(key), op, std::move(values));
    if (!requirement.ok()) {
      return BadRequest(fmt::format("invalid label selector \"{}\": {}", text_,
                                    requirement.status().message()));
    }
    return requirement;
  }

  std::string_view text_;
  Lexer lexer_;
  Lexeme current_;
};

}  // namespace

Result<LabelSelector> ParseLabelSelector(std::string_view text) { return Parser(text).Parse(); }

}  // namespace xblocks::api
