"""Custom survey questions (issue 14, item 8): the admin page, the form, the stored
answers, the figures on the staff pages (against statsmodels and scipy), the export,
and hostile labels escaped on pages, in email and in CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from scipy import stats
from sqlalchemy import func, select
from staff_support import sign_in
from statsmodels.stats.proportion import proportion_confint
from support import csrf_token, pdf_text
from survey_support import open_form, outbox_messages, parts, tokens_by_email

from cpi.audit.models import AuditEvent
from cpi.questions.figures import custom_figures
from cpi.surveys.models import CustomAnswer, Question, Response

PASSWORD = "password-123"
ADMIN = "admin@example.test"
LEAD = "lead@example.test"
OWNER = "owner@example.test"
LANGS = ("en", "fr", "de", "hu", "ru")
HOSTILE = '<script>alert("q")</script> =HYPERLINK("http://evil.test") <b>bold</b>'
HOSTILE_OPTION = "<img src=x onerror=alert(1)>"


def _setup(runner: Any, write_csv: Any, *, big: int = 6, small: int = 2) -> None:
    """Account BIG (``big`` contacts, owner OWNER), account SMALL (``small`` contacts);
    an admin, an enablement lead and the owner."""
    lines = ["account_id,account_name,segment,owner_email,contact_email,contact_name,locale"]
    for account, count in (("BIG", big), ("SMALL", small)):
        for i in range(count):
            lines.append(
                f"{account},{account} Ltd,Retail,{OWNER},p{i}@{account.lower()}.test,P {i},"
            )
    result = runner.invoke("import", "contacts", str(write_csv("c.csv", "\n".join(lines) + "\n")))
    assert result.exit_code == 0, result.output
    for email, role in ((ADMIN, "admin"), (LEAD, "enablement"), (OWNER, "account_manager")):
        result = runner.invoke(
            "user", "create", "--email", email, "--role", role, env={"CPI_PASSWORD": PASSWORD}
        )
        assert result.exit_code == 0, result.output


def _staff(app: Any, email: str) -> Any:
    client = app.test_client()
    sign_in(client, email, PASSWORD)
    return client


def _question_data(field: str, kind: str, **extra: str) -> dict[str, str]:
    data = {"field": field, "kind": kind, "scale": "1-5"}
    data.update({f"label_{loc}": f"{field} question ({loc})" for loc in LANGS})
    data.update(extra)
    return data


def _add(admin: Any, data: dict[str, str]) -> Any:
    token = csrf_token(admin.get("/admin/questions/").get_data(as_text=True))
    return admin.post("/admin/questions/", data={**data, "csrf_token": token})


def _post(admin: Any, path: str, **data: str) -> Any:
    token = csrf_token(admin.get("/admin/questions/").get_data(as_text=True))
    return admin.post(path, data={**data, "csrf_token": token})


def _campaign(runner: Any) -> str:
    result = runner.invoke("campaign", "create", "--name", "Pulse", "--period", "2026-Q3")
    assert result.exit_code == 0, result.output
    campaign_id = result.stdout.strip().splitlines()[0]
    assert runner.invoke("send", campaign_id).exit_code == 0
    return campaign_id


def _answer(client: Any, token: str, answers: dict[str, str]) -> Any:
    csrf = open_form(client, token)
    return client.post(f"/s/{token}", data={**answers, "csrf_token": csrf})


def _custom_fields(db: Any) -> list[str]:
    db.rollback()
    return list(
        db.scalars(
            select(Question.field)
            .where(Question.custom, Question.retired_at.is_(None))
            .order_by(Question.position)
        )
    )


def _stored(db: Any) -> dict[tuple[str, str], Any]:
    db.rollback()
    rows = db.execute(
        select(
            Response.contact_id, Question.field, CustomAnswer.value_text, CustomAnswer.value_number
        )
        .join(Response, Response.id == CustomAnswer.response_id)
        .join(Question, Question.id == CustomAnswer.question_id)
    )
    return {(str(r[0]), r[1]): r[3] if r[3] is not None else r[2] for r in rows}


# -- the admin page ------------------------------------------------------------------


def test_only_admins_reach_the_questions_page(app: Any, runner: Any, write_csv: Any) -> None:
    _setup(runner, write_csv)
    assert app.test_client().get("/admin/questions/").status_code == 302  # to sign in
    for email in (LEAD, OWNER):
        client = _staff(app, email)
        assert client.get("/admin/questions/").status_code == 403
    admin = _staff(app, ADMIN)
    page = admin.get("/admin/questions/").get_data(as_text=True)
    assert "Survey questions" in page and "(built-in)" in page
    assert admin.post("/admin/questions/", data=_question_data("x_y", "yes_no")).status_code == 400


def test_admin_adds_each_kind_and_it_is_audited(
    app: Any, runner: Any, write_csv: Any, db: Any
) -> None:
    _setup(runner, write_csv)
    admin = _staff(app, ADMIN)
    options = {f"options_{loc}": f"Alpha {loc}\nBeta {loc}\nGamma {loc}" for loc in LANGS}
    for data in (
        _question_data("liked", "yes_no"),
        _question_data("channel", "options", **options),
        _question_data("effort_five", "scale", scale="1-5"),
        _question_data("advocacy", "scale", scale="0-10"),
        _question_data("one_word", "short_text"),
    ):
        response = _add(admin, data)
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert _custom_fields(db) == ["liked", "channel", "effort_five", "advocacy", "one_word"]
    channel = db.scalar(select(Question).where(Question.field == "channel"))
    assert [o["labels"]["de"] for o in channel.options] == ["Alpha de", "Beta de", "Gamma de"]
    assert channel.texts["hu"] == "channel question (hu)"
    advocacy = db.scalar(select(Question).where(Question.field == "advocacy"))
    assert (advocacy.min_value, advocacy.max_value) == (0, 10)
    actions = db.scalars(select(AuditEvent.action).where(AuditEvent.actor == ADMIN)).all()
    assert actions.count("question.create") == 5


@pytest.mark.parametrize(
    ("field", "named"),
    [("nps", "built-in"), ("comment", "built-in"), ("name_consent", "built-in"),
     ("csrf_token", "built-in"), ("fcr", "built-in"), ("data", "built-in"),
     ("Bad Name", "lowercase"), ("x", "lowercase")],
)  # fmt: skip
def test_a_custom_question_cannot_take_a_built_in_name(
    app: Any, runner: Any, write_csv: Any, db: Any, field: str, named: str
) -> None:
    _setup(runner, write_csv)
    admin = _staff(app, ADMIN)
    response = _add(admin, _question_data(field, "yes_no"))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "field:" in page and named in page
    assert _custom_fields(db) == []


def test_bad_input_names_the_field_and_writes_nothing(
    app: Any, runner: Any, write_csv: Any, db: Any
) -> None:
    _setup(runner, write_csv)
    admin = _staff(app, ADMIN)
    assert _add(admin, _question_data("liked", "yes_no")).status_code == 302
    cases = [
        (_question_data("liked", "yes_no"), "field: this survey already has a question"),
        (_question_data("other", "yes_no", label_de=""), "label_de: this cannot be empty"),
        (_question_data("other", "scale", scale="2-9"), "scale"),
        (_question_data("other", "options", options_en="Only one"), "options_en"),
        (
            _question_data(
                "other",
                "options",
                **{**{f"options_{loc}": "A\nB" for loc in LANGS}, "options_ru": "A"},
            ),
            "options_ru: give 2 options",
        ),  # fmt: skip
        (_question_data("other", "yes_no", label_fr="x" * 501), "label_fr"),
    ]
    for data, message in cases:
        response = _add(admin, data)
        assert response.status_code == 400, data
        assert message in response.get_data(as_text=True), (message, data)
    assert _custom_fields(db) == ["liked"]


def test_reorder_and_retire_change_the_form_and_keep_answers(
    app: Any, runner: Any, write_csv: Any, db: Any
) -> None:
    _setup(runner, write_csv)
    admin = _staff(app, ADMIN)
    assert _post(admin, "/admin/questions/template", template="content").status_code == 302
    assert _custom_fields(db) == ["content_value", "content_clarity"]
    # the template again adds nothing twice
    assert _post(admin, "/admin/questions/template", template="content").status_code == 302
    assert _custom_fields(db) == ["content_value", "content_clarity"]
    clarity = db.scalar(select(Question.id).where(Question.field == "content_clarity"))
    value = db.scalar(select(Question.id).where(Question.field == "content_value"))
    assert _post(admin, f"/admin/questions/{clarity}/move", direction="up").status_code == 302
    assert _custom_fields(db) == ["content_clarity", "content_value"]
    _campaign(runner)
    token = tokens_by_email(app)["p0@big.test"]
    page = app.test_client().get(f"/s/{token}").get_data(as_text=True)
    assert page.index("Did it make your buying decision clearer?") < page.index(
        "Did the material we shared add value?"
    )
    customer = app.test_client()
    response = _answer(customer, token, {"content_value": "yes", "content_clarity": "no"})
    assert response.status_code == 303
    assert sorted(_stored(db).values()) == ["no", "yes"]

    assert _post(admin, f"/admin/questions/{value}/retire").status_code == 302
    assert _custom_fields(db) == ["content_clarity"]
    page = customer.get(f"/s/{token}").get_data(as_text=True)
    assert "Did the material we shared add value?" not in page
    # answering again leaves the retired question's answer as it was
    assert _answer(customer, token, {"content_clarity": "yes"}).status_code == 303
    assert sorted(_stored(db).values()) == ["yes", "yes"]
    listing = admin.get("/admin/questions/").get_data(as_text=True)
    assert "Restore content_value" in listing
    # a built-in question cannot be moved or retired here
    nps = db.scalar(select(Question.id).where(Question.field == "nps"))
    assert _post(admin, f"/admin/questions/{nps}/retire").status_code == 400
    assert db.scalar(select(Question.retired_at).where(Question.id == nps)) is None


# -- answering ----------------------------------------------------------------------


def test_answers_are_stored_updated_and_cleared_with_the_response(
    app: Any, runner: Any, write_csv: Any, db: Any
) -> None:
    _setup(runner, write_csv)
    admin = _staff(app, ADMIN)
    options = {f"options_{loc}": f"Web {loc}\nPhone {loc}" for loc in LANGS}
    for data in (
        _question_data("liked", "yes_no"),
        _question_data("channel", "options", **options),
        _question_data("advocacy", "scale", scale="0-10"),
        _question_data("one_word", "short_text"),
    ):
        assert _add(admin, data).status_code == 302
    _campaign(runner)
    token = tokens_by_email(app)["p0@big.test"]
    customer = app.test_client()
    answers = {"liked": "yes", "channel": "2", "advocacy": "9", "one_word": "Great", "nps": "8"}
    assert _answer(customer, token, answers).status_code == 303
    assert sorted(_stored(db).items())[0][0][1] == "advocacy"
    assert set(_stored(db).values()) == {"yes", "2", 9, "Great"}
    # coming back shows the answers; re-answering updates and clears
    page = customer.get(f"/s/{token}").get_data(as_text=True)
    assert 'value="Great"' in page
    again = {"liked": "no", "channel": "1", "advocacy": "", "one_word": "", "nps": "8"}
    assert _answer(customer, token, again).status_code == 303
    assert set(_stored(db).values()) == {"no", "1"}
    assert db.scalar(select(func.count()).select_from(Response)) == 1

    # a custom answer alone counts as an answer
    other = tokens_by_email(app)["p1@big.test"]
    assert _answer(app.test_client(), other, {"liked": "yes"}).status_code == 303


def test_forgetting_a_contact_deletes_their_short_texts_and_keeps_other_answers(
    app: Any, runner: Any, write_csv: Any, db: Any
) -> None:
    _setup(runner, write_csv)
    admin = _staff(app, ADMIN)
    assert _add(admin, _question_data("liked", "yes_no")).status_code == 302
    assert _add(admin, _question_data("one_word", "short_text")).status_code == 302
    _campaign(runner)
    tokens = tokens_by_email(app)
    for email in ("p0@big.test", "p1@big.test"):
        answers = {"liked": "yes", "one_word": f"Ask {email}"}
        assert _answer(app.test_client(), tokens[email], answers).status_code == 303
    result = runner.invoke("contact", "forget", "p0@big.test")
    assert result.exit_code == 0, result.output
    assert "1 comment(s) deleted" in result.output
    assert sorted(map(str, _stored(db).values())) == ["Ask p1@big.test", "yes", "yes"]


@pytest.mark.parametrize(
    ("answers", "field"),
    [({"liked": "maybe"}, "liked"), ({"channel": "7"}, "channel"),
     ({"advocacy": "11"}, "advocacy"), ({"advocacy": "4.5"}, "advocacy"),
     ({"one_word": "x" * 201}, "one_word"), ({"one_word": "bad\x01char"}, "one_word")],
)  # fmt: skip
def test_wrong_custom_answers_name_the_field_and_record_nothing(
    app: Any, runner: Any, write_csv: Any, db: Any, answers: dict[str, str], field: str
) -> None:
    _setup(runner, write_csv)
    admin = _staff(app, ADMIN)
    options = {f"options_{loc}": f"Web {loc}\nPhone {loc}" for loc in LANGS}
    for data in (
        _question_data("liked", "yes_no"),
        _question_data("channel", "options", **options),
        _question_data("advocacy", "scale", scale="0-10"),
        _question_data("one_word", "short_text"),
    ):
        assert _add(admin, data).status_code == 302
    _campaign(runner)
    token = tokens_by_email(app)["p0@big.test"]
    client = app.test_client()
    response = _answer(client, token, {"nps": "9", **answers})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'href="#q-{field}"' in page and f'id="e-{field}"' in page
    csrf = open_form(client, token)
    as_json = client.post(
        f"/s/{token}", data={"nps": "9", **answers, "csrf_token": csrf},
        headers={"Accept": "application/json"},
    )  # fmt: skip
    assert as_json.status_code == 400 and list(as_json.get_json()["errors"]) == [field]
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Response)) == 0
    assert db.scalar(select(func.count()).select_from(CustomAnswer)) == 0


def test_the_form_speaks_the_contacts_language(
    app: Any, runner: Any, write_csv: Any, db: Any
) -> None:
    lines = "account_id,account_name,segment,contact_email,contact_name,locale\n"
    lines += "HU-1,Magyar Kft,Retail,eva@hu.test,Éva,hu\n"
    assert runner.invoke("import", "contacts", str(write_csv("c.csv", lines))).exit_code == 0
    runner.invoke("user", "create", "--email", ADMIN, "--role", "admin",
                  env={"CPI_PASSWORD": PASSWORD})  # fmt: skip
    admin = _staff(app, ADMIN)
    assert _post(admin, "/admin/questions/template", template="content").status_code == 302
    _campaign(runner)
    token = tokens_by_email(app)["eva@hu.test"]
    page = app.test_client().get(f"/s/{token}").get_data(as_text=True)
    assert "Hasznosnak találta az általunk megosztott anyagokat?" in page
    assert "Egyértelműbbé tették a vásárlási döntését?" in page
    _, html = parts(outbox_messages(app)[0])
    assert "Egyértelműbbé tették a vásárlási döntését?" in html


# -- figures, min_n and the export ---------------------------------------------------


def _answered_dataset(app: Any, runner: Any, write_csv: Any) -> dict[str, Any]:
    """BIG: 6 answers to liked (4 yes) and advocacy (0-10); SMALL: 2 answers."""
    _setup(runner, write_csv)
    admin = _staff(app, ADMIN)
    assert _add(admin, _question_data("liked", "yes_no")).status_code == 302
    assert _add(admin, _question_data("advocacy", "scale", scale="0-10")).status_code == 302
    _campaign(runner)
    tokens = tokens_by_email(app)
    scores = [10, 9, 7, 3, 9, 6]
    for i, score in enumerate(scores):
        liked = "yes" if i < 4 else "no"
        assert _answer(app.test_client(), tokens[f"p{i}@big.test"],
                       {"liked": liked, "advocacy": str(score)}).status_code == 303  # fmt: skip
    for i in range(2):
        assert _answer(app.test_client(), tokens[f"p{i}@small.test"],
                       {"liked": "yes", "advocacy": "10"}).status_code == 303  # fmt: skip
    return {"admin": admin, "scores": scores}


def test_figures_match_statsmodels_and_scipy(
    app: Any, runner: Any, write_csv: Any, db: Any
) -> None:
    data = _answered_dataset(app, runner, write_csv)
    db.rollback()
    figures = {f.field: f for f in custom_figures(db, "account", "BIG", "2026-Q3", min_n=5)}
    liked = figures["liked"].figures
    assert liked.enough and liked.n == 6
    low, high = proportion_confint(4, 6, alpha=0.05, method="wilson")
    assert liked.shares[0].percent == pytest.approx(100 * 4 / 6)
    assert (liked.shares[0].low, liked.shares[0].high) == pytest.approx((100 * low, 100 * high))
    scale = figures["advocacy"].figures
    scores = data["scores"]
    mean = sum(scores) / len(scores)
    t_low, t_high = stats.t.interval(0.95, len(scores) - 1, loc=mean, scale=stats.sem(scores))
    assert scale.mean is not None and scale.mean.value == pytest.approx(mean)
    assert (scale.mean.low, scale.mean.high) == pytest.approx((t_low, t_high), rel=1e-9)
    top_low, top_high = proportion_confint(3, 6, alpha=0.05, method="wilson")  # 9 and 10
    top = scale.shares[0]
    assert (top.count, top.low, top.high) == (
        3,
        pytest.approx(100 * top_low),
        pytest.approx(100 * top_high),
    )
    # the segment holds both accounts: 8 answers
    segment = {f.field: f for f in custom_figures(db, "segment", "Retail", "2026-Q3", min_n=5)}
    assert segment["liked"].figures.n == 8 and segment["liked"].figures.shares[0].count == 6


def test_pages_show_figures_and_respect_min_n(
    app: Any, runner: Any, write_csv: Any, db: Any
) -> None:
    data = _answered_dataset(app, runner, write_csv)
    admin = data["admin"]
    big = admin.get("/accounts/BIG?period=2026-Q3").get_data(as_text=True)
    assert "Custom questions" in big and "liked question (en)" in big
    low, high = proportion_confint(4, 6, alpha=0.05, method="wilson")
    assert f"67% ({100 * low:.0f}–{100 * high:.0f}%, 4 of 6)" in big
    small = admin.get("/accounts/SMALL?period=2026-Q3").get_data(as_text=True)
    assert "not enough answers" in small and "4 of 6" not in small
    company = admin.get("/?period=2026-Q3").get_data(as_text=True)
    assert "75% (" in company and "6 of 8" in company
    segment = admin.get("/segments/Retail?period=2026-Q3").get_data(as_text=True)
    assert "6 of 8" in segment
    owner = _staff(app, OWNER).get("/?period=2026-Q3").get_data(as_text=True)
    assert "6 of 8" in owner and "Export custom answers" not in owner
    # retiring keeps the figures, marked retired
    db.rollback()
    liked = db.scalar(select(Question.id).where(Question.field == "liked"))
    assert _post(admin, f"/admin/questions/{liked}/retire").status_code == 302
    big = admin.get("/accounts/BIG?period=2026-Q3").get_data(as_text=True)
    assert "(retired)" in big and "4 of 6" in big


def test_custom_answers_export(app: Any, runner: Any, write_csv: Any) -> None:
    data = _answered_dataset(app, runner, write_csv)
    response = data["admin"].get("/exports/custom-answers.csv?period=2026-Q3")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    # SMALL (2 responses) is below min_n and left out, as in the responses CSV
    assert {r["account_id"] for r in rows} == {"BIG"}
    assert len(rows) == 12
    assert sorted(r["answer"] for r in rows if r["field"] == "liked") == ["no"] * 2 + ["yes"] * 4
    # account managers: as if it did not exist (like the responses CSV)
    assert _staff(app, OWNER).get("/exports/custom-answers.csv?period=2026-Q3").status_code == 404
    lead = _staff(app, LEAD).get("/exports/custom-answers.csv?period=2026-Q3&segment=Retail")
    assert lead.status_code == 200


# -- hostile labels -------------------------------------------------------------------


def test_hostile_labels_are_escaped_on_pages_in_email_and_in_csv(
    app: Any, runner: Any, write_csv: Any, db: Any
) -> None:
    _setup(runner, write_csv)
    admin = _staff(app, ADMIN)
    hostile = {f"label_{loc}": HOSTILE for loc in LANGS}
    options = {f"options_{loc}": f"{HOSTILE_OPTION}\n=1+2" for loc in LANGS}
    assert _add(admin, _question_data("evil", "options", **hostile, **options)).status_code == 302
    assert _add(admin, _question_data("evil_yes", "yes_no", **hostile)).status_code == 302
    listing = admin.get("/admin/questions/").get_data(as_text=True)
    assert "<script>alert" not in listing and "&lt;script&gt;alert" in listing

    _campaign(runner)
    text, html = parts(outbox_messages(app)[0])
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert HOSTILE in text  # plain text shows it as text

    tokens = tokens_by_email(app)
    page = app.test_client().get(f"/s/{tokens['p0@big.test']}").get_data(as_text=True)
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert" in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    for i in range(6):
        response = _answer(app.test_client(), tokens[f"p{i}@big.test"],
                           {"evil": "2" if i % 2 else "1", "evil_yes": "yes"})  # fmt: skip
        assert response.status_code == 303
    # an error summary names the hostile label, escaped
    client = app.test_client()
    wrong = _answer(client, tokens["p0@big.test"], {"evil": "9"}).get_data(as_text=True)
    assert "<script>alert" not in wrong and "&lt;script&gt;alert" in wrong

    for path in ("/accounts/BIG?period=2026-Q3", "/?period=2026-Q3"):
        staff_page = admin.get(path).get_data(as_text=True)
        assert "<script>alert" not in staff_page and "<img src=x" not in staff_page
        assert "&lt;script&gt;alert" in staff_page
    # the PDF shows the label as text: had it been markup, "<b>" would have vanished
    pdf = admin.get("/accounts/BIG/scorecard.pdf?period=2026-Q3")
    assert pdf.status_code == 200
    text = " ".join(pdf_text(pdf.data).split())
    assert "Custom questions" in text and "<b>bold</b>" in text and "<script>alert" in text
    exported = admin.get("/exports/custom-answers.csv?period=2026-Q3").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert rows and all(r["question"].startswith("<script>") for r in rows)  # not a formula
    labels = {r["answer_label"] for r in rows if r["field"] == "evil"}
    assert labels == {HOSTILE_OPTION, "'=1+2"}
    formula = _question_data("formula", "yes_no", label_en='=HYPERLINK("http://evil.test")')
    assert _add(admin, formula).status_code == 302
    _answer(app.test_client(), tokens["p0@big.test"], {"formula": "yes"})
    exported = admin.get("/exports/custom-answers.csv?period=2026-Q3").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [r["question"] for r in rows if r["field"] == "formula"] == [
        '\'=HYPERLINK("http://evil.test")'
    ]


# -- in a real browser ----------------------------------------------------------------

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
DESKTOP = {"viewport": {"width": 1440, "height": 900}}


def _browser_sign_in(page: Any, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


@pytest.mark.slow
def test_a_phone_answers_custom_questions(
    app: Any, runner: Any, write_csv: Any, live_url: str, browser: Any, db: Any
) -> None:
    _setup(runner, write_csv)
    admin = _staff(app, ADMIN)
    assert _post(admin, "/admin/questions/template", template="content").status_code == 302
    assert _add(admin, _question_data("advocacy", "scale", scale="0-10")).status_code == 302
    _campaign(runner)
    token = tokens_by_email(app)["p0@big.test"]
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(f"{live_url}/s/{token}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    options = [box.bounding_box() for box in page.locator("#q-advocacy .choice").all()]
    assert len(options) == 11 and len({round(b["y"]) for b in options}) == 1  # one row
    page.locator("#q-content_value label.choice", has_text="Yes").tap()
    page.locator("#q-content_clarity label.choice", has_text="No").tap()
    page.locator("label[for='advocacy-9']").tap()
    page.get_by_role("button", name="Send my answers").tap()
    page.wait_for_url("**/thanks")
    assert set(_stored(db).values()) == {"yes", "no", 9}
    context.close()


@pytest.mark.slow
@pytest.mark.parametrize("device", [PHONE, DESKTOP], ids=["phone-360", "desktop-1440"])
def test_the_questions_page_passes_axe(
    app: Any, runner: Any, write_csv: Any, live_url: str, browser: Any, device: Any
) -> None:
    from axe_playwright_python.sync_playwright import Axe

    _setup(runner, write_csv)
    admin = _staff(app, ADMIN)
    assert _post(admin, "/admin/questions/template", template="content").status_code == 302
    context = browser.new_context(**device)
    page = context.new_page()
    _browser_sign_in(page, live_url, ADMIN)
    page.goto(live_url + "/admin/questions/")
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_21_AA}})
    assert results.violations_count == 0, results.generate_report()
    assert len(results.response["passes"]) >= 5
    # a wrong name shows the error, still without violations
    page.fill("#field", "nps")
    for code in LANGS:
        page.fill(f"#label_{code}", f"Question {code}")
    page.click("button:has-text('Add the question')")
    page.wait_for_selector(".errors")
    assert "built-in field" in page.inner_text(".errors")
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_21_AA}})
    assert results.violations_count == 0, results.generate_report()
    context.close()
