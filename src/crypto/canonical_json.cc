#include "crypto/canonical_json.h"

#include <set>
#include <vector>

#include "common/limits.h"

namespace refuge {

namespace {

// A SAX handler that builds the document like nlohmann's own DOM builder, and refuses
// duplicate keys, floats and deep nesting on the way.
class StrictSax : public nlohmann::json_sax<Json> {
 public:
  explicit StrictSax(Json& root) : dom_(root, /*allow_exceptions=*/false) {}

  bool null() override { return dom_.null(); }
  bool boolean(bool v) override { return dom_.boolean(v); }
  bool number_integer(number_integer_t v) override { return dom_.number_integer(v); }
  bool number_unsigned(number_unsigned_t v) override { return dom_.number_unsigned(v); }
  bool number_float(number_float_t /*v*/, const string_t& text) override {
    return Fail("floating-point number " + text + " is not allowed");
  }
  bool string(string_t& v) override { return dom_.string(v); }
  bool binary(binary_t& v) override { return dom_.binary(v); }
  bool start_object(std::size_t n) override {
    if (!Push()) return false;
    keys_.emplace_back();
    return dom_.start_object(n);
  }
  bool key(string_t& k) override {
    if (!keys_.back().insert(k).second) return Fail("duplicate key \"" + k + "\"");
    return dom_.key(k);
  }
  bool end_object() override {
    keys_.pop_back();
    --depth_;
    return dom_.end_object();
  }
  bool start_array(std::size_t n) override {
    if (!Push()) return false;
    return dom_.start_array(n);
  }
  bool end_array() override {
    --depth_;
    return dom_.end_array();
  }
  bool parse_error(std::size_t position, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& ex) override {
    if (error_.empty()) {
      error_ = "invalid JSON at byte " + std::to_string(position) + ": " + ex.what();
    }
    return false;
  }

  const std::string& error() const { return error_; }

 private:
  bool Push() {
    if (++depth_ > limits::kMaxJsonDepth) {
      return Fail("nested deeper than " + std::to_string(limits::kMaxJsonDepth) + " levels");
    }
    return true;
  }
  bool Fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
    return false;
  }

  nlohmann::detail::json_sax_dom_parser<Json> dom_;
  std::vector<std::set<std::string>> keys_;
  int depth_ = 0;
  std::string error_;
};

void EncodeString(const std::string& s, std::string& out) {
  out.push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
}

Status Encode(const Json& v, int depth, std::string& out) {
  if (depth > limits::kMaxJsonDepth) return InvalidArgument("JSON nested too deeply");
  switch (v.type()) {
    case Json::value_t::null: out += "null"; return Status::Ok();
    case Json::value_t::boolean: out += v.get<bool>() ? "true" : "false"; return Status::Ok();
    case Json::value_t::number_integer: out += std::to_string(v.get<int64_t>()); return Status::Ok();
    case Json::value_t::number_unsigned:
      out += std::to_string(v.get<uint64_t>());
      return Status::Ok();
    case Json::value_t::string: EncodeString(v.get_ref<const std::string&>(), out); return Status::Ok();
    case Json::value_t::array: {
      out.push_back('[');
      bool first = true;
      for (const Json& e : v) {
        if (!first) out.push_back(',');
        first = false;
        REFUGE_RETURN_IF_ERROR(Encode(e, depth + 1, out));
      }
      out.push_back(']');
      return Status::Ok();
    }
    case Json::value_t::object: {
      // nlohmann's object is a std::map<std::string, ...>: iteration is in byte order, which
      // for valid UTF-8 is code point order, the order Python's sorted() gives.
      out.push_back('{');
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first) out.push_back(',');
        first = false;
        EncodeString(it.key(), out);
        out.push_back(':');
        REFUGE_RETURN_IF_ERROR(Encode(it.value(), depth + 1, out));
      }
      out.push_back('}');
      return Status::Ok();
    }
    case Json::value_t::number_float:
      return InvalidArgument("canonical JSON has no floating-point numbers");
    case Json::value_t::binary:
    case Json::value_t::discarded:
      break;
  }
  return InvalidArgument("value has no canonical JSON form");
}

}  // namespace

Result<Json> ParseJson(std::string_view text) {
  Json root;
  StrictSax sax(root);
  bool ok = Json::sax_parse(text.begin(), text.end(), &sax, nlohmann::detail::input_format_t::json,
                            /*strict=*/true);
  if (!ok || root.is_discarded()) {
    return Corruption(sax.error().empty() ? std::string("invalid JSON") : sax.error());
  }
  return root;
}

Result<std::string> EncodeCanonical(const Json& value) {
  std::string out;
  REFUGE_RETURN_IF_ERROR(Encode(value, 0, out));
  return out;
}

}  // namespace refuge
