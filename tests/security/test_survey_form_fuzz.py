"""Issue 7 item 39: property-based tests of the survey form, through the real app.

Whatever a client posts, the answer is a recorded response (303) that holds exactly
what the shared validator accepts, or a 400 that records nothing; never a 500.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from survey_support import open_form, setup_campaign, tokens_by_email

from cpi.scoring import ANSWER_FIELDS, validate_answers
from cpi.surveys.models import Response

FIELDS = [*ANSWER_FIELDS, "comment", "name_consent"]
CELL = st.one_of(
    st.sampled_from(
        [
            "",
            "yes",
            "no",
            "na",
            "0",
            "4",
            "5",
            "10",
            "11",
            "-1",
            "2.5",
            "4.0",
            "1e3",
            "NaN",
            "inf",
            " 7 ",
            "365",
            "365.01",
            "abc",
            "<script>x</script>",
        ]
    ),
    st.text(max_size=40),
)
FORMS = st.dictionaries(st.sampled_from(FIELDS), CELL, min_size=1, max_size=len(FIELDS))


def _stored(db: Any) -> list[Response]:
    db.rollback()
    return list(db.scalars(select(Response)))


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(form=FORMS)
def test_any_posted_form_is_recorded_as_validated_or_refused(
    app: Any, runner: Any, write_csv: Any, client: Any, db: Any, form: dict[str, str]
) -> None:
    if not hasattr(app, "_fuzz_token"):
        runner.invoke("send", str(setup_campaign(runner, write_csv)))
        app._fuzz_token = tokens_by_email(app)["bob@acme.test"]  # type: ignore[attr-defined]
    token = app._fuzz_token  # type: ignore[attr-defined]
    before = [(r.id, r.csat, r.nps, r.comment) for r in _stored(db)]
    csrf = open_form(client, token)
    response = client.post(f"/s/{token}", data={"csrf_token": csrf, **form})
    assert response.status_code in (303, 400), response.status_code
    after = _stored(db)
    if response.status_code == 400:
        assert [(r.id, r.csat, r.nps, r.comment) for r in after] == before
        return
    answers, errors = validate_answers(form)
    assert errors == {}
    assert len(after) == 1
    stored = after[0]
    for field in ANSWER_FIELDS:
        assert getattr(stored, field) == getattr(answers, field), field
    assert db.scalar(select(func.count()).select_from(Response)) == 1
