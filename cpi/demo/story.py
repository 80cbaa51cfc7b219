"""The demo data set, generated deterministically from a fixed seed.

The story: four segments, three account managers, five quarters. Healthcare is
slipping quarter after quarter; Northwind Clinics' ticket system reports a
glowing first-contact resolution that its customers flatly contradict.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

QUARTERS = ("2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3")
SEGMENTS = ("Healthcare", "Manufacturing", "Retail", "Public sector")
OWNERS = (
    ("anna.kovacs@demo.cpi-tracker.test", "Anna Kovács"),
    ("marc.dubois@demo.cpi-tracker.test", "Marc Dubois"),
    ("julia.weber@demo.cpi-tracker.test", "Julia Weber"),
)
STAFF = (
    ("admin@demo.cpi-tracker.test", "admin", "Ada Admin", "demo-admin-pass"),
    ("lead@demo.cpi-tracker.test", "enablement", "Lena Lead", "demo-lead-pass"),
) + tuple((email, "account_manager", name, "demo-am-pass") for email, name in OWNERS)

NORTHWIND = "HC-0007"
# The enablement story (cpi/demo/enablement.py): Marc Dubois's team took a first-contact
# resolution course in 2026-Q1; from 2026-Q2 their customers resolve more at first contact.
FCR_COURSE_TEAM = OWNERS[1][0]
FCR_COURSE_FROM = 3  # the index of 2026-Q2 in QUARTERS, the first quarter after the course
FCR_COURSE_LIFT = 0.16

ACCOUNT_NAMES = {
    "Healthcare": [
        "St. Aurelia Hospital Group",
        "MedLine Diagnostics",
        "Kardia Heart Centre",
        "Budapesti Klinika Zrt.",
        "Clinique des Alpes",
        "Vita Pharma AG",
        "Northwind Clinics",
        "Sana Care Homes",
        "Lumen Imaging",
        "Медицинский центр «Здоровье»",
    ],
    "Manufacturing": [
        "Acme Industrial",
        "Müller & Söhne Maschinenbau",
        "Tisza Steelworks Kft.",
        "Forge & Anvil Ltd",
        "Precision Gears SA",
        "Nordic Polymers AB",
        "Atelier Mécanique Roux",
        "Uralmash Service",
        "Hansa Robotics GmbH",
        "Bolt <&> Nut Co.",
    ],
    "Retail": [
        "Corner Market Chain",
        "Maison Lefèvre",
        "Kaufhaus Adler",
        "Pannon Retail Zrt.",
        "UrbanWear Outlets",
        "FreshCart Groceries",
        "Librairie Voltaire",
        "Sportwelt Berlin",
        "Торговый дом «Невский»",
        "Harbor Home Goods",
    ],
    "Public sector": [
        "City of Riverton",
        "Région Grand Est",
        "Landkreis Lindau",
        "Debrecen Város",
        "Port Authority East",
        "Ministry of Transport (demo)",
        "Ville de Lyon – Services",
        "Stadtwerke Ulm",
        "Мэрия Светлогорска",
        "County Library Network",
    ],
}
PREFIX = {"Healthcare": "HC", "Manufacturing": "MF", "Retail": "RT", "Public sector": "PS"}

FIRST_NAMES = {
    "en": ["Alice", "Ben", "Chloe", "Daniel", "Emma", "Frank"],
    "fr": ["Amélie", "Bruno", "Camille", "Denis", "Élodie", "François"],
    "de": ["Anja", "Bernd", "Claudia", "Dieter", "Eva", "Florian"],
    "hu": ["Ágnes", "Bence", "Csilla", "Dávid", "Eszter", "Ferenc"],
    "ru": ["Анна", "Борис", "Вера", "Дмитрий", "Елена", "Фёдор"],
}
LAST_NAMES = {
    "en": ["Smith", "Turner", "Walsh"], "fr": ["Martin", "Bernard", "Girard"],
    "de": ["Schmidt", "Fischer", "Wagner"], "hu": ["Nagy", "Tóth", "Szabó"],
    "ru": ["Иванова", "Петров", "Смирнова"],
}  # fmt: skip

COMMENTS = {
    "en": {
        "good": [
            "Quick, friendly and the problem was solved on the first call.",
            "Our account manager really understands our business.",
            "The quote came faster than we expected. Thank you!",
        ],
        "bad": [
            "I had to call three times before anyone took ownership.",
            "Quotes take weeks; we lost a project because of the delay.",
            "Lots of calls, very little value for us this quarter.",
        ],
    },
    "fr": {
        "good": [
            "Réponse rapide et efficace, merci à toute l'équipe.",
            "Le devis est arrivé en deux jours, parfait.",
        ],
        "bad": [
            "Il a fallu relancer plusieurs fois pour obtenir une réponse.",
            "Beaucoup d'appels, peu de valeur ajoutée ce trimestre.",
        ],
    },
    "de": {
        "good": [
            "Schnelle Hilfe, das Problem war beim ersten Anruf gelöst.",
            "Sehr kompetente Beratung, weiter so!",
        ],
        "bad": [
            "Das Angebot hat fast drei Wochen gedauert.",
            "Wir mussten mehrmals nachfragen, bis sich jemand zuständig fühlte.",
        ],
    },
    "hu": {
        "good": [
            "Gyors és barátságos ügyintézés, köszönjük!",
            "Az árajánlat a vártnál hamarabb megérkezett.",
        ],
        "bad": [
            "Háromszor kellett telefonálnom, mire megoldották a problémát.",
            "Sok hívás, kevés valódi segítség ebben a negyedévben.",
        ],
    },
    "ru": {
        "good": [
            "Быстро и вежливо, проблему решили с первого звонка.",
            "Менеджер хорошо понимает наш бизнес.",
        ],
        "bad": [
            "Коммерческое предложение пришлось ждать три недели.",
            "Приходилось звонить несколько раз, прежде чем кто-то взялся за вопрос.",
        ],
    },
}

LOCALES_BY_SEGMENT = {
    "Healthcare": ["en", "hu", "fr", "de"], "Manufacturing": ["de", "en", "hu"],
    "Retail": ["fr", "en", "de", "ru"], "Public sector": ["en", "fr", "de", "hu", "ru"],
}  # fmt: skip

TARGETS = {
    "fcr": 80.0,
    "value_added_calls": 3.0,
    "value_added_share": 55.0,
    "quote_turnaround": 3.0,
    "csat": 80.0,
    "nps": 30.0,
    "ces": 5.5,
}


@dataclass
class DemoContact:
    email: str
    name: str
    locale: str


@dataclass
class DemoAccount:
    account_id: str
    name: str
    segment: str
    owner_email: str
    quality: float
    contacts: list[DemoContact] = field(default_factory=list)


@dataclass
class DemoResponse:
    account_id: str
    contact_email: str
    period: str
    submitted_at: datetime
    answers: dict[str, object]
    comment: str | None
    name_consent: bool


def _clamp(value: float, low: float = 0.02, high: float = 0.98) -> float:
    return max(low, min(high, value))


def build_accounts(rng: random.Random) -> list[DemoAccount]:
    accounts = []
    for segment in SEGMENTS:
        for index, name in enumerate(ACCOUNT_NAMES[segment], start=1):
            account_id = f"{PREFIX[segment]}-{index:04d}"
            owner = OWNERS[(index + SEGMENTS.index(segment)) % len(OWNERS)][0]
            account = DemoAccount(account_id, name, segment, owner, quality=rng.gauss(0, 0.08))
            domain = f"{account_id.lower()}.example.com"
            for number in range(rng.randint(7, 12)):
                locale = rng.choice(LOCALES_BY_SEGMENT[segment])
                first = FIRST_NAMES[locale][number % 6]
                last = LAST_NAMES[locale][rng.randrange(3)]
                email = f"contact{number + 1}@{domain}"
                account.contacts.append(DemoContact(email, f"{first} {last}", locale))
            accounts.append(account)
    return accounts


def _trend(account: DemoAccount, quarter_index: int) -> float:
    if account.segment == "Healthcare":
        return 0.05 - 0.06 * quarter_index  # slipping quarter after quarter
    if account.segment == "Retail":
        return -0.04 + 0.02 * quarter_index  # slowly improving
    return 0.0


def course_lift(account: DemoAccount, quarter_index: int) -> float:
    """The FCR course's effect on one account's customers in one quarter."""
    treated = account.owner_email == FCR_COURSE_TEAM and quarter_index >= FCR_COURSE_FROM
    return FCR_COURSE_LIFT if treated else 0.0


def answer(rng: random.Random, account: DemoAccount, quarter_index: int) -> dict[str, object]:
    mood = account.quality + _trend(account, quarter_index) + rng.gauss(0, 0.1)
    fcr_yes = _clamp(0.74 + mood - (0.4 if account.account_id == NORTHWIND else 0.0)
                     + course_lift(account, quarter_index))  # fmt: skip
    fcr = "na" if rng.random() < 0.08 else ("yes" if rng.random() < fcr_yes else "no")
    total = max(0, round(rng.gauss(6, 2.5)))
    value_added = sum(rng.random() < _clamp(0.55 + mood) for _ in range(total))
    quote = None
    if rng.random() < 0.65:
        quote = round(max(0.5, rng.lognormvariate(1.0 - mood * 2, 0.45)) * 2) / 2
    satisfaction = _clamp(0.8 + mood * 1.4, 0.0, 1.0)
    csat = min(5, max(1, round(1 + 4 * satisfaction + rng.gauss(0, 0.6))))
    nps = min(10, max(0, round(10 * satisfaction + 0.4 + rng.gauss(0, 1.5))))
    ces = min(7, max(1, round(1 + 6 * satisfaction + rng.gauss(0, 0.9))))
    return {
        "fcr": fcr,
        "contacts_total": total,
        "contacts_value_added": value_added,
        "quote_turnaround_days": quote,
        "csat": csat,
        "nps": nps,
        "ces": ces,
    }


def build_responses(rng: random.Random, accounts: list[DemoAccount]) -> list[DemoResponse]:
    responses = []
    for quarter_index, quarter in enumerate(QUARTERS):
        year, q = int(quarter[:4]), int(quarter[-1])
        closes = datetime(year + (q == 4), (q * 3) % 12 + 1, 1, 9, 0)
        for account in accounts:
            for contact in account.contacts:
                if rng.random() > 0.72:
                    continue
                answers = answer(rng, account, quarter_index)
                comment = None
                if rng.random() < 0.35:
                    tone = "good" if int(answers["csat"]) >= 4 else "bad"  # type: ignore[call-overload]
                    comment = rng.choice(COMMENTS[contact.locale][tone])
                responses.append(DemoResponse(
                    account.account_id, contact.email, quarter,
                    closes + timedelta(days=rng.randint(0, 13), minutes=rng.randint(0, 600)),
                    answers, comment, rng.random() < 0.5,
                ))  # fmt: skip
    return responses


def build_kpis(rng: random.Random, accounts: list[DemoAccount]) -> list[dict[str, object]]:
    """Internal figures: FCR and quote turnaround per account, CSAT company-wide."""
    rows: list[dict[str, object]] = []
    for quarter in QUARTERS:
        for account in accounts:
            tickets = rng.randint(40, 220)
            rate = 0.95 if account.account_id == NORTHWIND else _clamp(0.86 + rng.gauss(0, 0.03))
            rows.append(
                {
                    "indicator": "fcr",
                    "period": quarter,
                    "account_id": account.account_id,
                    "numerator": round(tickets * rate),
                    "denominator": tickets,
                }
            )
            rows.append(
                {
                    "indicator": "quote_turnaround",
                    "period": quarter,
                    "account_id": account.account_id,
                    "value": round(max(0.5, rng.gauss(2.0, 0.4)), 1),
                }
            )
        rows.append(
            {
                "indicator": "csat",
                "period": quarter,
                "account_id": None,
                "value": round(88 + rng.gauss(0, 1.5), 1),
            }
        )
    return rows


def build_targets() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for quarter in QUARTERS:
        for indicator, target in TARGETS.items():
            rows.append(
                {
                    "indicator": indicator,
                    "period": quarter,
                    "segment": None,
                    "target": target,
                    "tolerance": None,
                }
            )
        rows.append(
            {
                "indicator": "fcr",
                "period": quarter,
                "segment": "Healthcare",
                "target": 85.0,
                "tolerance": 5.0,
            }
        )
    return rows
