#include "smartcore/textscan.hpp"

#include <charconv>
#include <system_error>

namespace smartcore {

namespace {

inline bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' || c == ';'; }

// Splits `text` into lines; calls fn(line_view, line_number) for each. Stops when fn returns false.
template <class Fn>
void for_each_line(std::string_view text, std::int64_t first_line, char comment, Fn&& fn) {
    std::size_t pos = 0;
    std::int64_t line_no = first_line;
    while (pos <= text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(pos, end - pos);
        const std::size_t cut = line.find(comment);
        if (cut != std::string_view::npos) line = line.substr(0, cut);
        if (!fn(line, line_no)) return;
        if (end == text.size()) break;
        pos = end + 1;
        ++line_no;
    }
}

// Next whitespace/';'-separated token of `line` starting at `pos` (empty when none).
inline std::string_view next_token(std::string_view line, std::size_t& pos) {
    while (pos < line.size() && is_space(line[pos])) ++pos;
    const std::size_t start = pos;
    while (pos < line.size() && !is_space(line[pos])) ++pos;
    return line.substr(start, pos - start);
}

std::string excerpt(std::string_view s) {
    constexpr std::size_t kMax = 60;
    return std::string(s.substr(0, kMax));
}

}  // namespace

bool parse_double(std::string_view token, double& out) {
    if (token.empty()) return false;
    if (token.front() == '+') token.remove_prefix(1);
    if (token.empty()) return false;
    const char* first = token.data();
    const char* last = token.data() + token.size();
    auto [ptr, ec] = std::from_chars(first, last, out);
    return ec == std::errc() && ptr == last;
}

NumericTable scan_numeric_table(std::string_view text, std::int64_t first_line, std::size_t ncols,
                                char comment) {
    NumericTable t;
    t.values.reserve(text.size() / 8);
    std::vector<double> row(ncols);
    for_each_line(text, first_line, comment, [&](std::string_view line, std::int64_t line_no) {
        std::size_t pos = 0, k = 0;
        for (std::string_view tok = next_token(line, pos); !tok.empty(); tok = next_token(line, pos), ++k) {
            if (k >= ncols) {
                // Count the rest so the message can say how many fields the line has.
                std::size_t extra = 1;
                while (!next_token(line, pos).empty()) ++extra;
                t.error = {ScanError::WrongFieldCount, line_no, static_cast<std::int32_t>(ncols + extra), excerpt(line)};
                return false;
            }
            if (!parse_double(tok, row[k])) {
                t.error = {ScanError::BadNumber, line_no, static_cast<std::int32_t>(k), std::string(tok)};
                return false;
            }
        }
        if (k == 0) return true;  // blank or comment-only line
        if (k != ncols) {
            t.error = {ScanError::WrongFieldCount, line_no, static_cast<std::int32_t>(k), excerpt(line)};
            return false;
        }
        t.values.insert(t.values.end(), row.begin(), row.end());
        t.row_line.push_back(line_no);
        return true;
    });
    return t;
}

TripsTable scan_tntp_trips(std::string_view text, std::int64_t first_line, char comment) {
    TripsTable t;
    bool have_origin = false;
    double origin = 0.0;
    for_each_line(text, first_line, comment, [&](std::string_view line, std::int64_t line_no) {
        std::size_t pos = 0;
        std::string_view tok = next_token(line, pos);
        if (tok.empty()) return true;
        if (tok.size() >= 6 && (tok.substr(0, 6) == "Origin" || tok.substr(0, 6) == "origin" ||
                                tok.substr(0, 6) == "ORIGIN")) {
            std::string_view num = tok.substr(6);
            if (num.empty()) num = next_token(line, pos);
            if (!parse_double(num, origin)) {
                t.error = {ScanError::BadNumber, line_no, 0, std::string(num)};
                return false;
            }
            if (!next_token(line, pos).empty()) {
                t.error = {ScanError::BadStructure, line_no, 0, excerpt(line)};
                return false;
            }
            have_origin = true;
            t.block_origin.push_back(origin);
            t.block_line.push_back(line_no);
            return true;
        }
        if (!have_origin) {
            t.error = {ScanError::BadStructure, line_no, -1, excerpt(line)};
            return false;
        }
        // Pairs "d : v" (';' already counts as whitespace). The ':' may touch either number.
        pos = 0;
        std::int32_t field = 0;
        while (true) {
            while (pos < line.size() && is_space(line[pos])) ++pos;
            if (pos >= line.size()) break;
            std::size_t start = pos;
            while (pos < line.size() && !is_space(line[pos]) && line[pos] != ':') ++pos;
            std::string_view d_tok = line.substr(start, pos - start);
            while (pos < line.size() && is_space(line[pos])) ++pos;
            if (pos >= line.size() || line[pos] != ':') {
                t.error = {ScanError::BadStructure, line_no, field, excerpt(line.substr(start))};
                return false;
            }
            ++pos;  // ':'
            while (pos < line.size() && is_space(line[pos])) ++pos;
            start = pos;
            while (pos < line.size() && !is_space(line[pos])) ++pos;
            std::string_view v_tok = line.substr(start, pos - start);
            double d = 0, v = 0;
            if (!parse_double(d_tok, d)) {
                t.error = {ScanError::BadNumber, line_no, 0, std::string(d_tok)};
                return false;
            }
            if (!parse_double(v_tok, v)) {
                t.error = {ScanError::BadNumber, line_no, 1, std::string(v_tok)};
                return false;
            }
            t.origin.push_back(origin);
            t.destination.push_back(d);
            t.value.push_back(v);
            t.line.push_back(line_no);
            ++field;
        }
        return true;
    });
    return t;
}

}  // namespace smartcore
