"""Cards that later stages add to the staff overview, so the foundation (accounts) never
imports them: each app registers a card in its AppConfig.ready()."""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.functional import Promise


@dataclass(frozen=True)
class StaffCard:
    testid: str
    label: Promise
    url_name: str
    count: Callable[[], int]


STAFF_CARDS: list[StaffCard] = []


def register_staff_card(card: StaffCard) -> None:
    if all(existing.testid != card.testid for existing in STAFF_CARDS):
        STAFF_CARDS.append(card)


def staff_cards() -> list[dict]:
    return [
        {
            "testid": card.testid,
            "label": card.label,
            "url_name": card.url_name,
            "count": card.count(),
        }
        for card in STAFF_CARDS
    ]
