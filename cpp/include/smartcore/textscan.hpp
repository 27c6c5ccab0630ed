// Fast scanners for the numeric bodies of text formats (TNTP link, node, flow and trips tables).
//
// Python owns file handling, decoding and every semantic check; these functions only turn the
// text of a table into numbers, 20-50x faster than tokenising in Python, and report the exact
// line and column of the first token that is not a number so that Python can raise an error
// naming file, line and field. They never throw on bad text: bad text is a result, not a crash.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace smartcore {

struct ScanError {
    enum Kind : int { None = 0, BadNumber = 1, WrongFieldCount = 2, BadStructure = 3 };
    Kind kind = None;
    std::int64_t line = 0;   // 1-based line number in the whole file
    std::int32_t column = 0; // 0-based field index on that line (BadNumber), fields found (WrongFieldCount)
    std::string token;       // the offending token or line excerpt
};

// A table of `ncols` numbers per row. Rows are lines that hold at least one token after cutting
// the line at `comment` and treating ';' as whitespace. Lines are numbered from `first_line`
// (the 1-based number of text's first line).
struct NumericTable {
    std::vector<double> values;          // row-major, rows * ncols
    std::vector<std::int64_t> row_line;  // 1-based source line of each row
    ScanError error;
};

NumericTable scan_numeric_table(std::string_view text, std::int64_t first_line, std::size_t ncols,
                                char comment = '~');

// The body of a TNTP trips file: "Origin o" lines followed by "d : v;" pairs (several per line).
struct TripsTable {
    std::vector<double> origin, destination, value;  // one entry per pair, as written
    std::vector<std::int64_t> line;                  // 1-based line of each pair
    std::vector<double> block_origin;                // every "Origin o" block, empty ones too
    std::vector<std::int64_t> block_line;            // 1-based line of each "Origin o"
    ScanError error;
};

TripsTable scan_tntp_trips(std::string_view text, std::int64_t first_line, char comment = '~');

// Parse one whole token as a double (accepts a leading '+', exponent forms, "inf"/"nan").
bool parse_double(std::string_view token, double& out);

}  // namespace smartcore
