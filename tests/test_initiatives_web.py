"""The initiative pages: CRUD, who may do what, bad input, the report page against its
JSON and the command line, the PDF read back, case studies, uploads, coaching, drivers."""

from __future__ import annotations

import html
import json
import re
from io import BytesIO

import pytest
from initiatives_support import OTHER_AMS, TREATED_AM, seed_database
from sqlalchemy import func, select
from staff_support import sign_in
from support import csrf_token, pdf_text

from cpi.audit.models import AuditEvent
from cpi.auth.operations import create_user
from cpi.initiatives import presentation
from cpi.initiatives.models import CaseStudy, Initiative, InitiativeCost
from cpi.initiatives.operations import CostLine, create_initiative, record_case_study
from cpi.outcomes.models import Outcome

PASSWORD = "a-long-test-password-42"
LEAD = "lead@example.com"
ADMIN = "admin@example.com"


@pytest.fixture
def seeded(db):  # type: ignore[no-untyped-def]
    seed_database(db)
    for email, role in ((LEAD, "enablement"), (ADMIN, "admin"), (TREATED_AM, "account_manager"),
                        (OTHER_AMS[0], "account_manager")):  # fmt: skip
        create_user(db, email=email, role=role, password=PASSWORD)
    db.commit()
    return db


@pytest.fixture
def course(seeded):  # type: ignore[no-untyped-def]
    """An FCR course for the treated account manager, with costs and two case studies
    (one approved) and outcomes for every account."""
    initiative = create_initiative(
        seeded, actor=LEAD, name="FCR <course> & co", kind="training", start="2025-10-01",
        end="2025-12-31", indicators="fcr,csat", participants=[TREATED_AM, OTHER_AMS[1]],
        costs=[CostLine("fees", "Trainer", amount=20000),
               CostLine("hours", "Participants' time", hours=160, hourly_cost=75)],
        benefit_outcome="renewed", benefit_value=3000,
    )  # fmt: skip
    approved = record_case_study(
        seeded, initiative, actor=LEAD, participant_email=TREATED_AM, title="Escalations avoided",
        happened_on="2026-04-02", kind="hours_avoided", hours=100, hourly_rate=120,
    )  # fmt: skip
    approved.status = "approved"
    record_case_study(
        seeded, initiative, actor=LEAD, participant_email=OTHER_AMS[1], title="Someone else's win",
        happened_on="2026-04-03", kind="new_revenue", amount=5000,
    )  # fmt: skip
    from cpi.accounts.models import Account

    for number, (pk, account_id) in enumerate(
        seeded.execute(select(Account.id, Account.account_id))
    ):
        for quarter in ("2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2"):
            renewed = account_id.startswith("A0") and quarter >= "2026-Q1" or number % 3 != 0
            seeded.add(Outcome(account_id=pk, period=quarter, renewed=float(renewed),
                               revenue=1000.0 + number, churned=0.0))  # fmt: skip
    seeded.commit()
    return initiative.id


def _text(response) -> str:  # type: ignore[no-untyped-def]
    """A page's text, tags removed and entities decoded, whitespace collapsed."""
    page = response.get_data(as_text=True)
    page = re.sub(r"<svg.*?</svg>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _post(client, url: str, data: dict, *, form_url: str | None = None):  # type: ignore[no-untyped-def]
    return client.post(url, data={**data, "csrf_token": csrf_token(client, form_url or url)})


NEW = {
    "name": "Quote clinic", "kind": "process", "start": "2025-10-01", "end": "2025-12-31",
    "indicators": ["fcr", "quote_turnaround"], "participants": f"{TREATED_AM}\n",
    "description": "Weekly quoting clinic", "fees": "1000", "materials": "250.50",
    "hours": "40", "hourly_cost": "60", "benefit_outcome": "", "benefit_value": "",
}  # fmt: skip


def test_enablement_creates_edits_and_deletes_an_initiative(seeded, client, db) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, LEAD, PASSWORD)
    assert "Initiatives" in _text(client.get("/initiatives/"))
    created = _post(client, "/initiatives/new", NEW)
    assert created.status_code == 302
    db.rollback()
    initiative = db.scalars(select(Initiative)).one()
    assert initiative.indicator_codes == ["fcr", "quote_turnaround"]
    assert initiative.participant_emails == [TREATED_AM]
    assert sorted((c.kind, c.total) for c in initiative.costs) == [
        ("fees", 1000.0), ("hours", 2400.0), ("materials", 250.5),
    ]  # fmt: skip
    assert created.headers["Location"].endswith(f"/initiatives/{initiative.id}")
    edit_url = f"/initiatives/{initiative.id}/edit"
    page = _text(client.get(edit_url))
    assert "Quote clinic" in page and TREATED_AM in page
    changed = {**NEW, "name": "Quote clinic II", "participants": f"{TREATED_AM}, {OTHER_AMS[0]}"}
    assert _post(client, edit_url, changed).status_code == 302
    db.rollback()
    db.refresh(initiative)
    assert initiative.name == "Quote clinic II"
    assert initiative.participant_emails == sorted([TREATED_AM, OTHER_AMS[0]])
    deleted = _post(client, f"/initiatives/{initiative.id}/delete", {}, form_url=edit_url)
    assert deleted.status_code == 302
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Initiative)) == 0
    actions = set(db.scalars(select(AuditEvent.action)))
    assert {"initiative.create", "initiative.update", "initiative.delete"} <= actions


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"start": "2026-01-01", "end": "2025-12-31"},
         "end: 2025-12-31 is before the start 2026-01-01"),
        ({"start": "31/12/2025"}, "start: '31/12/2025' is not a date like 2026-03-31"),
        ({"participants": "nobody@example.com"},
         "participants: 'nobody@example.com' is not an account manager"),
        ({"participants": ""}, "participants: give at least one account manager's email"),
        ({"participants": f"{TREATED_AM},{OTHER_AMS[0]},{OTHER_AMS[1]}"},
         "participants: every account belongs to a participant: no untreated accounts are left"),
        ({"fees": "-5"}, "fees: must not be negative"),
        ({"materials": "a lot"}, "materials: 'a lot' is not a number"),
        ({"hourly_cost": "NaN"}, "hourly_cost: 'NaN' is not a number"),
        ({"hourly_cost": ""}, "hourly_cost: give both the hours and the hourly cost"),
        ({"indicators": []}, "indicators: give at least one indicator code"),
        ({"name": "  "}, "name: is required"),
        ({"benefit_outcome": "renewed", "benefit_value": "-1"},
         "benefit_value: must not be negative"),
    ],
)  # fmt: skip
def test_bad_input_names_the_field_and_writes_nothing(seeded, client, db, change, message) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, LEAD, PASSWORD)
    response = _post(client, "/initiatives/new", {**NEW, **change})
    assert response.status_code == 400
    page = _text(response)
    assert message in page and "Nothing was saved" in page
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Initiative)) == 0
    assert db.scalar(select(func.count()).select_from(InitiativeCost)) == 0


def test_a_form_without_its_csrf_token_is_refused(seeded, client, db) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, LEAD, PASSWORD)
    assert client.post("/initiatives/new", data=NEW).status_code == 400
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Initiative)) == 0


def test_signed_out_visitors_go_to_the_login(client) -> None:  # type: ignore[no-untyped-def]
    for path in (
        "/initiatives/",
        "/initiatives/1",
        "/initiatives/coaching",
        "/initiatives/drivers",
    ):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_account_managers_see_only_their_initiatives_and_their_own_figures(  # type: ignore[no-untyped-def]
    course, seeded, client, db
) -> None:
    other = create_initiative(
        seeded, actor=LEAD, name="Not theirs", kind="tool", start="2025-10-01",
        end="2025-12-31", indicators="csat", participants=[OTHER_AMS[0]],
    )  # fmt: skip
    seeded.commit()
    sign_in(client, TREATED_AM, PASSWORD)
    listing = _text(client.get("/initiatives/"))
    assert "FCR <course> & co" in listing and "Not theirs" not in listing
    assert "New initiative" not in listing
    assert client.get(f"/initiatives/{other.id}").status_code == 404
    assert client.get(f"/initiatives/{other.id}/report.json").status_code == 404
    assert client.get("/initiatives/999").status_code == 404
    for path in ("/initiatives/new", f"/initiatives/{course}/edit", f"/initiatives/{course}/costs"):
        assert client.get(path).status_code == 403, path
    report_url = f"/initiatives/{course}"
    token = csrf_token(client, f"/initiatives/{course}/case-studies/new")
    studies = db.scalars(select(CaseStudy.id)).all()
    refused = client.post(f"{report_url}/case-studies/{studies[1]}/review",
                          data={"decision": "approve", "csrf_token": token})  # fmt: skip
    assert refused.status_code == 403
    mine = json.loads(client.get(f"{report_url}/report.json").data)
    assert mine["effects"][0]["n_treated_accounts"] == 8  # their own accounts only
    assert mine["initiative"]["participants"] == [TREATED_AM]
    assert [s["title"] for s in mine["case_studies"]] == ["Escalations avoided"]
    assert not set(presentation.MANAGER_ONLY_KEYS) & set(mine)
    page = _text(client.get(report_url))
    assert "Someone else's win" not in page and OTHER_AMS[1] not in page
    assert "Total costs" not in page and "shown to sales enablement" in page
    pdf = " ".join(pdf_text(client.get(f"{report_url}/report.pdf").data).split())
    assert "Escalations avoided" in pdf and "Someone else's win" not in pdf
    assert "Total costs" not in pdf and "shown to sales enablement" in pdf


def test_min_n_withholds_every_thin_figure_an_account_manager_sees(course, app, client) -> None:  # type: ignore[no-untyped-def]
    app.config["MIN_N"] = 129  # more than their 8 accounts x 8 answers x 2 quarters
    sign_in(client, TREATED_AM, PASSWORD)
    report = json.loads(client.get(f"/initiatives/{course}/report.json").data)
    fcr = report["effects"][0]
    assert fcr["treated_before"] is None and fcr["did"] is None
    assert all(point["treated"] is None for point in report["trends"]["fcr"])
    page = _text(client.get(f"/initiatives/{course}"))
    assert "not enough answers" in page and "Not enough answers to draw" in client.get(
        f"/initiatives/{course}"
    ).get_data(as_text=True)


def test_report_page_and_json_equal_the_command_line(course, client, runner) -> None:  # type: ignore[no-untyped-def]
    cli = json.loads(runner.invoke("initiative", "report", str(course), "--format", "json").output)
    sign_in(client, LEAD, PASSWORD)
    download = client.get(f"/initiatives/{course}/report.json")
    assert download.mimetype == "application/json"
    assert "attachment" in download.headers["Content-Disposition"]
    assert json.loads(download.data) == cli
    response = client.get(f"/initiatives/{course}")
    raw = response.get_data(as_text=True)
    assert "FCR &lt;course&gt; &amp; co" in raw and "<course>" not in raw
    page = _text(response)
    assert "FCR <course> & co" in page
    for row in cli["effects"] + cli["outcome_effects"]:
        name = row.get("indicator") or row["outcome"]
        for key in ("treated_before", "treated_after", "untreated_before", "untreated_after"):
            assert presentation.figure(name, row[key]) in page, (name, key)
        if row["did"] is not None:
            assert presentation.figure(name, row["did"], signed=True) in page
    fcr = cli["effects"][0]
    interval = (f"{presentation.figure('fcr', fcr['did_low'], signed=True)} to "
                f"{presentation.figure('fcr', fcr['did_high'], signed=True)}")  # fmt: skip
    assert interval in page
    for line in presentation.roi_lines(cli):
        assert line in page, line
    assert f"{cli['roi_percent']:.1f}%" in page and f"{cli['return_multiple']:.2f} ×" in page
    # costs with hours, by hand: 20,000 + 160 h x 75 = 32,000; one approved study 12,000
    assert cli["costs"]["total"] == 32000.0 and cli["benefits"]["case_studies"] == 12000.0
    assert "Total costs = 20,000.00 + 12,000.00 = 32,000.00" in page
    assert "Case study (Hours avoided): Escalations avoided: 100 h × 120.00 = 12,000.00" in page
    # windows chosen on the page: the JSON follows the same choice
    chosen = json.loads(client.get(f"/initiatives/{course}/report.json?before=1&after=1").data)
    assert chosen["before"] == ["2025-Q3"] and chosen["after"] == ["2026-Q1"]
    assert chosen["benefits"]["measured"] is None  # the box was not ticked
    ticked = client.get(f"/initiatives/{course}/report.json?before=1&after=1&measured=y")
    assert json.loads(ticked.data)["benefits"]["measured_detail"]["outcome"] == "renewed"


@pytest.mark.parametrize("query", ["before=0", "before=9", "after=x"])
def test_bad_report_windows_name_the_field(course, client, query) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, LEAD, PASSWORD)
    response = client.get(f"/initiatives/{course}?{query}")
    assert response.status_code == 400
    field = query.split("=")[0]
    assert f"{field}: must be a number of quarters from 1 to 8" in _text(response)


def test_the_pdf_holds_every_line_of_the_roi_calculation(course, client, runner) -> None:  # type: ignore[no-untyped-def]
    cli = json.loads(runner.invoke("initiative", "report", str(course), "--format", "json").output)
    sign_in(client, LEAD, PASSWORD)
    response = client.get(f"/initiatives/{course}/report.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    text = " ".join(pdf_text(response.data).split())
    for line in presentation.roi_lines(cli):
        assert " ".join(line.split()) in text, line
    assert "ENABLEMENT INITIATIVE REPORT" in text.upper() and "FCR <course> & co" in text
    assert "First-contact resolution" in text and "Escalations avoided" in text


def test_case_studies_are_recorded_reviewed_and_audited(course, seeded, client, db) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, TREATED_AM, PASSWORD)
    url = f"/initiatives/{course}/case-studies/new"
    study = {
        "participant": TREATED_AM, "title": "Saved a renewal", "happened_on": "2026-05-01",
        "kind": "new_revenue", "amount": "7000", "account": "A0-01", "description": "x",
    }  # fmt: skip
    bad = _post(client, url, {**study, "amount": "-3"})
    assert bad.status_code == 400 and "amount: must not be negative" in _text(bad)
    unknown = _post(client, url, {**study, "account": "NOPE"})
    assert "account: no account 'NOPE'" in _text(unknown)
    someone_else = _post(client, url, {**study, "participant": OTHER_AMS[1]})
    assert someone_else.status_code == 400 and "participant: Not a valid choice" in _text(
        someone_else
    )
    assert _post(client, url, study).status_code == 302
    db.rollback()
    recorded = db.scalars(select(CaseStudy).where(CaseStudy.title == "Saved a renewal")).one()
    assert recorded.status == "pending" and recorded.participant_email == TREATED_AM
    client.post("/logout", data={"csrf_token": csrf_token(client, "/initiatives/")})
    sign_in(client, LEAD, PASSWORD)
    before = json.loads(client.get(f"/initiatives/{course}/report.json").data)
    review = f"/initiatives/{course}/case-studies/{recorded.id}/review"
    approved = _post(client, review, {"decision": "approve"}, form_url=f"/initiatives/{course}")
    assert approved.status_code == 302
    after = json.loads(client.get(f"/initiatives/{course}/report.json").data)
    assert after["benefits"]["case_studies"] == before["benefits"]["case_studies"] + 7000
    rejected = _post(client, review, {"decision": "reject"}, form_url=f"/initiatives/{course}")
    assert rejected.status_code == 302
    db.rollback()
    actions = list(db.scalars(select(AuditEvent.action)))
    assert "initiative.case_study.record" in actions
    assert {"initiative.case_study.approved", "initiative.case_study.rejected"} <= set(actions)


def test_costs_and_csv_uploads_are_all_or_nothing(course, client, db) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, LEAD, PASSWORD)
    url = f"/initiatives/{course}/costs"
    negative = _post(client, url, {"kind": "fees", "amount": "-1"})
    assert negative.status_code == 400 and "amount: must not be negative" in _text(negative)
    added = _post(client, url, {"kind": "materials", "description": "Books", "amount": "300"})
    assert added.status_code == 302
    db.rollback()
    lines = db.scalars(select(InitiativeCost).where(InitiativeCost.initiative_id == course)).all()
    assert len(lines) == 3
    bad_csv = (
        b"kind,description,amount,hours,hourly_cost\n"
        b"fees,Venue,500,,\nfees,Oops,-2,,\nhours,Time,,x,50\n"
    )
    upload = f"/initiatives/{course}/upload"
    token = csrf_token(client, url)
    from io import BytesIO

    def send(what: str, content: bytes, **extra: str):  # type: ignore[no-untyped-def]
        data = {"what": what, "file": (BytesIO(content), "file.csv"), **extra}
        return client.post(upload, data=data)

    refused = send("costs", bad_csv, csrf_token=token)
    assert refused.status_code == 400
    page = _text(refused)
    assert "line 3: amount: must not be negative" in page
    assert "line 4: hours: 'x' is not a number" in page and "Nothing was imported" in page
    db.rollback()
    assert db.scalar(select(func.count()).where(InitiativeCost.initiative_id == course)) == 3
    good = send("costs", b"kind,amount\nother,99\n", csrf_token=token)
    assert good.status_code == 302
    people = send("participants", b"email\nghost@example.com\n", csrf_token=token)
    assert "line 2: email: 'ghost@example.com' is not an account manager" in _text(people)
    no_token = send("costs", b"kind,amount\nother,1\n")
    assert no_token.status_code == 400
    db.rollback()
    assert db.scalar(select(func.count()).where(InitiativeCost.initiative_id == course)) == 4
    remove = _post(client, f"{url}/{lines[0].id}/remove", {}, form_url=url)
    assert remove.status_code == 302
    db.rollback()
    assert db.scalar(select(func.count()).where(InitiativeCost.initiative_id == course)) == 3


def test_coaching_focus_links_to_a_prefilled_initiative(seeded, client) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, LEAD, PASSWORD)
    page = client.get("/initiatives/coaching").get_data(as_text=True)
    assert "Coaching focus" in page
    for email in (TREATED_AM, *OTHER_AMS):
        assert email in page
    prefilled = client.get(f"/initiatives/new?participants={OTHER_AMS[0]}&indicators=fcr,csat")
    text = prefilled.get_data(as_text=True)
    assert OTHER_AMS[0] in text
    assert re.search(r'value="fcr"[^>]*checked|checked[^>]*value="fcr"', text)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/initiatives/")})
    sign_in(client, TREATED_AM, PASSWORD)
    own = client.get("/initiatives/coaching").get_data(as_text=True)
    assert TREATED_AM in own and OTHER_AMS[0] not in own
    assert "Create an initiative" not in own


def test_driver_view_speaks_of_association_with_counts(course, client) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, LEAD, PASSWORD)
    page = _text(client.get("/initiatives/drivers"))
    assert "not cause and effect" in page
    assert "Accounts whose customers report First-contact resolution ≥" in page
    assert "accounts, n=" in page
    assert "caus" not in page.replace("not cause and effect", "")


# -- the pages and the PDF in the user's language (issue 15 item 4) ----------------------------

FRENCH_REPORT = {
    "Effect on the target indicators": "Effet sur les indicateurs ciblés",
    "Outcomes before and after": "Résultats avant et après",
    "Difference in differences": "Différence des différences",
    "Return on investment": "Retour sur investissement",
    "The calculation, line by line": "Le calcul, ligne par ligne",
    "How these figures are computed": "Comment ces chiffres sont calculés",
    "Only case studies approved by enablement count as benefits.": (
        "Seules les études de cas approuvées par le sales enablement comptent comme bénéfices."
    ),
    "Case study (Hours avoided): Escalations avoided": (
        "Étude de cas (Heures évitées) : Escalations avoided"
    ),
    "Total costs = 20,000.00": "Coûts totaux = 20 000,00",
}


def _in_french(client) -> None:  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/account/password")
    assert (
        client.post("/account/language", data={"csrf_token": token, "locale": "fr"}).status_code
        == 302
    )


def test_a_french_user_reads_the_initiative_pages_and_pdf_in_french(course, client) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, LEAD, PASSWORD)
    _in_french(client)
    report = client.get(f"/initiatives/{course}")
    assert '<html lang="fr">' in report.get_data(as_text=True)
    page = _text(report)
    for english, french in FRENCH_REPORT.items():
        assert english not in page, english
        assert french in page, french
    assert "FCR <course> & co" in page and "Formation" in page  # the kind "training"
    # indicator names from the shared catalogue of labels (cpi.i18n.indicators)
    assert "Résolution au premier contact" in page and "First-contact resolution" not in page

    coaching = _text(client.get("/initiatives/coaching"))
    assert "Axes de coaching" in coaching and "par responsable de compte" in coaching
    assert "Coaching focus" not in coaching and "per account manager" not in coaching
    assert "Ce que les clients ont dit sur Résolution au premier contact" in coaching
    assert "First-contact resolution" not in coaching

    drivers = _text(client.get("/initiatives/drivers"))
    assert "Lien entre CPI et résultats" in drivers and "How CPIs go with outcomes" not in drivers
    assert "pas une relation de cause à effet" in drivers and "not cause and effect" not in drivers
    assert "Les comptes dont les clients indiquent" in drivers
    assert "Accounts whose customers report" not in drivers
    assert "First-contact resolution" not in drivers and "Customer satisfaction" not in drivers
    assert "Les comptes dont les clients indiquent Résolution au premier contact" in drivers

    listing = _text(client.get("/initiatives/"))
    assert "Résolution au premier contact" in listing and "First-contact resolution" not in listing

    # a form error names the field and says why, in French (the command line keeps English:
    # tests/test_initiatives.py BAD_CREATE)
    refused = _post(client, "/initiatives/new", {**NEW, "start": "2026-01-01", "end": "2025-12-31"})
    assert refused.status_code == 400
    assert "fin : 2025-12-31 est antérieure au début (2026-01-01)" in _text(refused)
    assert "is before the start" not in _text(refused)
    upload = f"/initiatives/{course}/upload"
    costs_csv = b"kind,amount\nfees,1000\nfees,-2\n"
    bad_costs = client.post(upload, data={
        "what": "costs", "file": (BytesIO(costs_csv), "costs.csv"),
        "csrf_token": csrf_token(client, f"/initiatives/{course}/costs"),
    })  # fmt: skip
    assert bad_costs.status_code == 400
    assert "ligne 3 : montant : ne doit pas être négatif" in _text(bad_costs)

    new_study = _text(client.get(f"/initiatives/{course}/case-studies/new"))
    assert "Enregistrer l’étude de cas" in new_study and "Type de retour" in new_study
    assert "Record case study" not in new_study and "Kind of return" not in new_study

    pdf = client.get(f"/initiatives/{course}/report.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    text = " ".join(pdf_text(pdf.data).split())
    assert "Comment ces chiffres sont calculés" in text and "Retour sur investissement" in text
    assert "How these figures are computed" not in text and "Return on investment" not in text
    assert "FCR <course> & co" in text
