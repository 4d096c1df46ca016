"""Reading a people CSV file: hostile input refused with every problem named (no server)."""

from __future__ import annotations

from mentorflow.directory import csv_file
from mentorflow.directory.csv_file import MAX_FILE_BYTES, read_people_csv


def _csv(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode()


def test_a_clean_file_becomes_profile_fields_of_its_columns_only() -> None:
    read = read_people_csv(
        _csv(
            "person_id,display_name,email,manager_id,languages,active",
            "p-1,Ada Obi,ada@example.com,,en; de,",
            "p-2,Lin Park,lin@example.com,p-1,,FALSE",
        )
    )

    assert read.problems == []
    first, second = read.people
    assert (first.row, first.person_id, first.active) == (2, "p-1", True)
    assert first.fields == {
        "name": "Ada Obi",
        "email": "ada@example.com",
        "manager_id": None,
        "languages": ["en", "de"],
    }
    assert (second.row, second.active, second.fields["manager_id"]) == (3, False, "p-1")
    assert second.fields["languages"] == []


def test_a_byte_order_mark_and_blank_lines_are_tolerated() -> None:
    read = read_people_csv(b"\xef\xbb\xbfperson_id,department\r\n\r\np-1,Data\r\n")

    assert read.problems == []
    assert [(p.row, p.fields) for p in read.people] == [(3, {"department": "Data"})]


def test_every_header_problem_is_named() -> None:
    read = read_people_csv(_csv("display_name,salary,email,email,Phone", "Ada,1,a@b.co,a@b.co,1"))

    assert read.people == []
    assert read.problems == [
        "row 1: unknown column 'salary'",
        "row 1: unknown column 'Phone'",
        "row 1: column 'email' appears twice",
        "row 1: the required column 'person_id' is missing",
    ]


def test_an_empty_file_has_no_header() -> None:
    assert read_people_csv(b"").problems == [
        "row 1: the header row is missing (it names the columns, person_id first)"
    ]


def test_every_problem_of_every_row_is_named_without_its_value() -> None:
    read = read_people_csv(
        _csv(
            "person_id,given_name,email,manager_id,active",
            "p-1,Ada\x07,not-an-address,boss 1,maybe",
            ",Lin,sealed:v1:abc,,true",
            "p-3,Kim,kim@example.com",
            "p-4,sealed:v1:AAAA,p4@example.com,,",
        )
    )

    assert read.people == []
    assert read.problems == [
        "row 2: given_name: contains the control character U+0007",
        "row 2: email: not an email address",
        "row 2: manager_id: must be a person id (1-64 letters, digits, '._@-')",
        "row 2: active: must be true or false",
        "row 3: person_id: missing (every row needs the person's directory id)",
        "row 3: email: looks like a sealed value ('sealed:v…:'), which only the vault writes",
        "row 4: 3 fields, the header has 5",
        "row 5: given_name: looks like a sealed value ('sealed:v…:'), which only the vault writes",
    ]
    assert "Ada" not in " ".join(read.problems)


def test_a_formula_looking_value_is_kept_as_text() -> None:
    read = read_people_csv(_csv("person_id,department", 'p-1,"=HYPERLINK(""http://x"")"'))

    assert read.problems == []
    assert read.people[0].fields == {"department": '=HYPERLINK("http://x")'}


def test_a_file_that_is_not_utf8_is_refused() -> None:
    read = read_people_csv(b"person_id,family_name\r\np-1,M\xfcller\r\n")

    assert read.problems == ["file: not UTF-8 (byte 28)"]
    assert read.people == []


def test_a_file_over_the_size_limit_is_not_read() -> None:
    read = read_people_csv(b"person_id\r\n" + b"p-1\r\n" * (MAX_FILE_BYTES // 5))

    assert read.problems == ["file: larger than 10 MiB"]


def test_rows_beyond_the_limit_are_refused() -> None:
    lines = ["person_id", *(f"p-{n}" for n in range(csv_file.MAX_ROWS + 1))]

    read = read_people_csv(_csv(*lines))

    assert read.problems == [f"file: more than {csv_file.MAX_ROWS} rows"]
    assert len(read.people) == csv_file.MAX_ROWS


def test_broken_quoting_is_named_with_its_row() -> None:
    read = read_people_csv(_csv("person_id,department", 'p-1,"Data', "p-2,Ops"))

    assert read.people == []
    assert len(read.problems) == 1
    assert read.problems[0].startswith("row 2: not CSV")
