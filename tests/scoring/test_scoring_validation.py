import pytest

from cpi.scoring import CATALOGUE, INDICATORS_BY_CODE, Answers, validate_answers


def test_catalogue_order_and_lookup() -> None:
    assert [i.code for i in CATALOGUE] == [
        "fcr",
        "value_added_calls",
        "value_added_share",
        "quote_turnaround",
        "csat",
        "nps",
        "ces",
    ]
    assert INDICATORS_BY_CODE["quote_turnaround"].better == "lower"
    assert INDICATORS_BY_CODE["nps"].unit == "points"
    assert {i.unit for i in CATALOGUE} <= {"percent", "contacts", "days", "score", "points"}


def test_valid_answers_from_strings_and_numbers() -> None:
    answers, errors = validate_answers(
        {
            "fcr": "Yes",
            "contacts_total": "4",
            "contacts_value_added": 3,
            "quote_turnaround_days": "2.5",
            "csat": "4.0",
            "nps": 10,
            "ces": "7",
            "comment": "ignored",
            "csrf_token": "x",
        }
    )
    assert errors == {}
    assert answers == Answers("yes", 4, 3, 2.5, 4, 10, 7)


def test_blank_is_none() -> None:
    answers, errors = validate_answers({"fcr": "", "csat": "  ", "nps": None})
    assert errors == {}
    assert answers == Answers()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("csat", "4.5", "csat: must be a whole number from 1 to 5"),
        ("csat", "6", "csat: must be a whole number from 1 to 5"),
        ("csat", "0", "csat: must be a whole number from 1 to 5"),
        ("csat", True, "csat: must be a whole number from 1 to 5"),
        ("nps", "11", "nps: must be a whole number from 0 to 10"),
        ("nps", "-1", "nps: must be a whole number from 0 to 10"),
        ("ces", "eight", "ces: must be a whole number from 1 to 7"),
        ("ces", 7.5, "ces: must be a whole number from 1 to 7"),
        ("contacts_total", "1000", "contacts_total: must be a whole number from 0 to 999"),
        ("contacts_total", "nan", "contacts_total: must be a whole number from 0 to 999"),
        ("quote_turnaround_days", "366", "quote_turnaround_days: must be"),
        ("quote_turnaround_days", "-0.5", "quote_turnaround_days: must be"),
        ("quote_turnaround_days", "inf", "quote_turnaround_days: must be"),
        ("quote_turnaround_days", "2,5", "quote_turnaround_days: must be"),
        ("fcr", "maybe", "fcr: must be yes, no or na"),
        ("fcr", 1, "fcr: must be yes, no or na"),
    ],
)
def test_rejected_answers_name_the_field(field: str, value: object, message: str) -> None:
    answers, errors = validate_answers({field: value})
    assert set(errors) == {field}
    assert errors[field].startswith(message)
    assert getattr(answers, field) is None


def test_value_added_above_total_is_rejected() -> None:
    answers, errors = validate_answers({"contacts_total": "3", "contacts_value_added": "4"})
    assert errors == {
        "contacts_value_added": "contacts_value_added: must not be more than contacts_total"
    }
    assert answers.contacts_total == 3
    assert answers.contacts_value_added is None


def test_edges_of_ranges_are_accepted() -> None:
    answers, errors = validate_answers(
        {
            "contacts_total": 0,
            "contacts_value_added": 0,
            "quote_turnaround_days": "365",
            "csat": 1,
            "nps": 0,
            "ces": 1,
            "fcr": "na",
        }
    )
    assert errors == {}
    assert answers == Answers("na", 0, 0, 365.0, 1, 0, 1)
