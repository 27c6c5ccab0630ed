// Text scanners against hand-computed tables, including every malformed-input path.
#include "check.hpp"
#include "smartcore/textscan.hpp"

using namespace smartcore;

TEST_CASE("numeric table: TNTP link lines with tabs, padding, ';' and exponents") {
    const char* text =
        "~\tinit\tterm\t;\n"
        "\t1\t2\t25900.20064\t6 ;\n"
        "\n"
        " \t3   \t4  \t0.00000000000000000000E+00\t+7.5\t; \n";
    NumericTable t = scan_numeric_table(text, 10, 4);
    CHECK(t.error.kind == ScanError::None);
    CHECK(t.values.size() == 8);
    CHECK((t.row_line == std::vector<std::int64_t>{11, 13}));
    CHECK_NEAR(t.values[2], 25900.20064, 0);
    CHECK(t.values[6] == 0.0);
    CHECK(t.values[7] == 7.5);
}

TEST_CASE("numeric table: bad number names line and column") {
    NumericTable t = scan_numeric_table("1 2 3\n4 x5 6\n", 1, 3);
    CHECK(t.error.kind == ScanError::BadNumber);
    CHECK(t.error.line == 2);
    CHECK(t.error.column == 1);
    CHECK(t.error.token == "x5");
}

TEST_CASE("numeric table: wrong field counts") {
    NumericTable t = scan_numeric_table("1 2 3\n4 5\n", 1, 3);
    CHECK(t.error.kind == ScanError::WrongFieldCount);
    CHECK(t.error.line == 2);
    CHECK(t.error.column == 2);
    NumericTable u = scan_numeric_table("1 2 3 4 5\n", 7, 3);
    CHECK(u.error.kind == ScanError::WrongFieldCount);
    CHECK(u.error.line == 7);
    CHECK(u.error.column == 5);
}

TEST_CASE("numeric table: empty input and missing final newline") {
    CHECK(scan_numeric_table("", 1, 3).values.empty());
    NumericTable t = scan_numeric_table("1 2 3", 1, 3);
    CHECK(t.values.size() == 3);
}

TEST_CASE("trips: several pairs per line, tabs, Origin with tab") {
    const char* text =
        "Origin \t1 \n"
        "    1 :      0.0;     2 :    100.0;\n"
        "2 \t: \t12.6; \t3:4.5;\n"
        "~ comment\n"
        "Origin 2\n"
        "1 : 7;\n";
    TripsTable t = scan_tntp_trips(text, 1);
    CHECK(t.error.kind == ScanError::None);
    CHECK((t.origin == std::vector<double>{1, 1, 1, 1, 2}));
    CHECK((t.destination == std::vector<double>{1, 2, 2, 3, 1}));
    CHECK((t.value == std::vector<double>{0.0, 100.0, 12.6, 4.5, 7}));
    CHECK((t.line == std::vector<std::int64_t>{2, 2, 3, 3, 6}));
    CHECK((t.block_origin == std::vector<double>{1, 2}));
    CHECK((t.block_line == std::vector<std::int64_t>{1, 5}));
}

TEST_CASE("trips: malformed inputs are reported, not crashed on") {
    CHECK(scan_tntp_trips("1 : 2;\n", 1).error.kind == ScanError::BadStructure);  // no Origin
    CHECK(scan_tntp_trips("Origin x\n", 1).error.kind == ScanError::BadNumber);
    CHECK(scan_tntp_trips("Origin 1\n1 : abc;\n", 1).error.kind == ScanError::BadNumber);
    CHECK(scan_tntp_trips("Origin 1\n1 : abc;\n", 1).error.column == 1);
    CHECK(scan_tntp_trips("Origin 1\n1 2;\n", 1).error.kind == ScanError::BadStructure);
    CHECK(scan_tntp_trips("Origin 1\n1 :\n", 1).error.kind == ScanError::BadNumber);
    CHECK(scan_tntp_trips("Origin 1\n:\n", 1).error.kind == ScanError::BadNumber);
}

CHECK_MAIN()
