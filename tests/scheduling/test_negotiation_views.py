"""Negotiation pages: the whole flow, errors in place, permissions, capacity numbers and
query budgets of the lists."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import ReviewStatus
from scheduling.models import CapacityCommitment, Proposal, ProposalStatus, Side
from scheduling.selectors.negotiation import default_delivery_date
from scheduling.services.proposals import (
    proposal_accept,
    proposal_counter,
    proposal_create,
)
from tests.accounts.utils import by_testid, field_errors
from tests.catalog.conftest import make_listed_offer
from tests.factories import CommunityFactory, StaffFactory, SupplierFactory, UserFactory
from tests.scheduling.conftest import next_delivery_day

pytestmark = pytest.mark.django_db


def propose(offer, community, *, quantity=12, day=None, price=Decimal("10.00")):
    return proposal_create(
        offer=offer,
        community=community,
        leader=community.leader,
        delivery_date=day or next_delivery_day(offer),
        quantity=quantity,
        unit_price=price,
    )


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.fixture
def leader_client(client, leader):
    client.force_login(leader)
    return client


@pytest.fixture
def supplier_client(client, supplier_user):
    client.force_login(supplier_user)
    return client


# The whole flow


def test_full_flow_leader_proposes_supplier_counters_leader_accepts(
    client, listed_offer, community, leader, supplier_user
):
    client.force_login(leader)
    offer_page = client.get(reverse("catalog:leader_offer", args=[listed_offer.pk]))
    create_url = reverse("scheduling:leader_proposal_create", args=[listed_offer.pk])
    assert 'data-testid="propose"' in offer_page.content.decode()
    assert create_url in offer_page.content.decode()

    page = client.get(create_url)
    assert page.status_code == 200
    form = page.context["form"]
    assert form["quantity"].value() == listed_offer.min_order_qty
    assert form["unit_price"].value() == listed_offer.supply_price
    assert form["delivery_date"].value() == default_delivery_date(listed_offer)
    assert form["community"].value() == community.pk  # the only one: preselected
    assert 'data-testid="proposal-form"' in page.content.decode()
    assert f'<option value="{community.pk}" selected>' in page.content.decode()

    day = next_delivery_day(listed_offer)
    sent = client.post(
        create_url,
        {
            "community": community.pk,
            "delivery_date": day.isoformat(),
            "quantity": 24,
            "unit_price": "10.00",
            "note": "周五到货",
        },
    )
    first = Proposal.objects.get()
    assert sent.status_code == 302
    assert sent.url == reverse("scheduling:leader_proposal", args=[first.pk])
    assert (first.leader, first.community, first.delivery_date) == (leader, community, day)
    assert (first.quantity, first.unit_price, first.note) == (24, Decimal("10.00"), "周五到货")
    waiting = client.get(sent.url)
    assert 'data-testid="withdraw-proposal"' in waiting.content.decode()
    assert 'data-testid="accept-proposal"' not in waiting.content.decode()

    client.force_login(supplier_user)
    listing = client.get(reverse("scheduling:supplier_proposals"))
    assert listing.content.decode().count('data-testid="proposal-row"') == 1
    thread_url = reverse("scheduling:supplier_proposal", args=[first.pk])
    thread = client.get(thread_url)
    body = thread.content.decode()
    for testid in ("thread", "accept-proposal", "counter-proposal", "decline-proposal"):
        assert f'data-testid="{testid}"' in body
    assert 'data-testid="withdraw-proposal"' not in body
    assert "周五到货" in body

    countered = client.post(
        reverse("scheduling:supplier_proposal_counter", args=[first.pk]),
        {"quantity": 36, "unit_price": "9.50", "note": "三箱起九块五"},
    )
    assert countered.status_code == 302
    assert countered.url == thread_url
    counter = Proposal.objects.get(parent=first)
    assert (counter.proposed_by, counter.quantity, counter.unit_price) == (
        Side.SUPPLIER,
        36,
        Decimal("9.50"),
    )

    client.force_login(leader)
    thread = client.get(reverse("scheduling:leader_proposal", args=[first.pk]))
    body = thread.content.decode()
    assert body.count('data-testid="thread-step"') == 2
    assert body.index("周五到货") < body.index("三箱起九块五")  # oldest first
    assert 'data-testid="accept-proposal"' in body
    accepted = client.post(
        reverse("scheduling:leader_proposal_accept", args=[counter.pk]), follow=True
    )
    assert accepted.redirect_chain[-1][0] == reverse("scheduling:leader_proposal", args=[first.pk])
    counter.refresh_from_db()
    assert counter.status == ProposalStatus.ACCEPTED
    assert CapacityCommitment.objects.get(offer=listed_offer, delivery_date=day).committed == 36
    assert "36 of 300 committed, 264 left" in by_testid(accepted, "thread-capacity")
    assert 'data-testid="accept-proposal"' not in accepted.content.decode()

    rows = client.get(reverse("scheduling:leader_proposals")).content.decode()
    assert rows.count('data-testid="proposal-row"') == 1
    assert 'data-status="accepted"' in rows


def test_sidebars_link_to_the_pages(client, leader, supplier_user):
    client.force_login(leader)
    page = client.get(reverse("scheduling:leader_proposals")).content.decode()
    assert 'data-testid="nav-proposals"' in page
    client.force_login(supplier_user)
    page = client.get(reverse("scheduling:supplier_proposals")).content.decode()
    assert 'data-testid="nav-supplier-proposals"' in page
    assert 'data-testid="nav-capacity"' in page


def test_decline_with_reason_and_withdraw(client, listed_offer, community, leader, supplier_user):
    first = propose(listed_offer, community)
    client.force_login(supplier_user)
    response = client.post(
        reverse("scheduling:supplier_proposal_decline", args=[first.pk]), {"reason": "缺货"}
    )
    assert response.status_code == 302
    first.refresh_from_db()
    assert (first.status, first.decline_reason) == (ProposalStatus.DECLINED, "缺货")

    second = propose(listed_offer, community)
    client.force_login(leader)
    response = client.post(reverse("scheduling:leader_proposal_withdraw", args=[second.pk]))
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.status == ProposalStatus.WITHDRAWN
    page = client.get(reverse("scheduling:leader_proposal", args=[first.pk]))
    assert "缺货" in by_testid(page, "step-reason")


def test_supplier_can_withdraw_its_counter(client, listed_offer, community, supplier_user):
    counter = proposal_counter(
        proposal=propose(listed_offer, community),
        actor=supplier_user,
        side=Side.SUPPLIER,
        quantity=24,
        unit_price=Decimal("9.00"),
    )
    client.force_login(supplier_user)
    page = client.get(reverse("scheduling:supplier_proposal", args=[counter.thread_id]))
    assert 'data-testid="withdraw-proposal"' in page.content.decode()
    client.post(reverse("scheduling:supplier_proposal_withdraw", args=[counter.pk]))
    counter.refresh_from_db()
    assert counter.status == ProposalStatus.WITHDRAWN


# Errors


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"quantity": 15}, "quantity", "whole cases of 6"),
        ({"quantity": 6}, "quantity", "minimum order is 12"),
        ({"quantity": 306}, "quantity", "at most 300"),
        ({"quantity": "many"}, "quantity", "whole number"),
        ({"unit_price": "0"}, "unit_price", "greater than or equal to 0.01"),
        ({"unit_price": "abc"}, "unit_price", "Enter a number"),
        ({"delivery_date": "today"}, "delivery_date", "to prepare"),
        ({"delivery_date": "late"}, "delivery_date", "not valid on that day"),
        ({"delivery_date": "nonsense"}, "delivery_date", "Enter a valid date"),
    ],
)
def test_create_errors_in_place(leader_client, listed_offer, community, changes, field, fragment):
    data = {
        "community": community.pk,
        "delivery_date": next_delivery_day(listed_offer).isoformat(),
        "quantity": 12,
        "unit_price": "10.00",
        "note": "",
    }
    data.update(changes)
    if changes.get("delivery_date") == "today":
        data["delivery_date"] = timezone.localdate().isoformat()
    elif changes.get("delivery_date") == "late":
        data["delivery_date"] = (listed_offer.valid_until + timedelta(days=1)).isoformat()
    response = leader_client.post(
        reverse("scheduling:leader_proposal_create", args=[listed_offer.pk]), data
    )
    assert response.status_code == 200
    errors = field_errors(response, field)
    assert errors and fragment in errors[0], errors
    assert not Proposal.objects.exists()


def test_create_refuses_a_day_the_supplier_does_not_deliver(leader_client, listed_offer, community):
    mondays = make_listed_offer(listed_offer.supplier, StaffFactory(), delivery_weekdays="0")
    tuesday = next_delivery_day(mondays) + timedelta(days=1)
    response = leader_client.post(
        reverse("scheduling:leader_proposal_create", args=[mondays.pk]),
        {
            "community": community.pk,
            "delivery_date": tuesday.isoformat(),
            "quantity": 12,
            "unit_price": "10.00",
        },
    )
    assert "does not deliver" in field_errors(response, "delivery_date")[0]


def test_create_offers_only_the_leaders_communities(leader_client, listed_offer, community):
    other = CommunityFactory()
    response = leader_client.post(
        reverse("scheduling:leader_proposal_create", args=[listed_offer.pk]),
        {
            "community": other.pk,
            "delivery_date": next_delivery_day(listed_offer).isoformat(),
            "quantity": 12,
            "unit_price": "10.00",
        },
    )
    assert response.status_code == 200
    assert field_errors(response, "community")
    assert not Proposal.objects.exists()


def test_a_leader_of_two_communities_chooses_one(client, listed_offer, community, leader):
    CommunityFactory(leader=leader)
    client.force_login(leader)
    page = client.get(reverse("scheduling:leader_proposal_create", args=[listed_offer.pk]))
    assert page.context["form"]["community"].value() is None
    assert len(page.context["form"].fields["community"].queryset) == 2


def test_unlisted_offer_cannot_be_proposed_on(leader_client, listed_offer):
    Offer = type(listed_offer)
    Offer.objects.filter(pk=listed_offer.pk).update(status="suspended")
    url = reverse("scheduling:leader_proposal_create", args=[listed_offer.pk])
    assert leader_client.get(url).status_code == 404


def test_counter_and_decline_errors_in_place(client, listed_offer, community, supplier_user):
    first = propose(listed_offer, community)
    client.force_login(supplier_user)
    response = client.post(
        reverse("scheduling:supplier_proposal_counter", args=[first.pk]),
        {"quantity": 13, "unit_price": "9.00"},
    )
    assert response.status_code == 200
    assert "whole cases" in field_errors(response, "quantity")[0]
    assert 'data-testid="counter-form"' in response.content.decode()

    response = client.post(
        reverse("scheduling:supplier_proposal_counter", args=[first.pk]),
        {"quantity": 12, "unit_price": "-1"},
    )
    assert field_errors(response, "unit_price")

    response = client.post(
        reverse("scheduling:supplier_proposal_decline", args=[first.pk]), {"reason": ""}
    )
    assert response.status_code == 200
    assert field_errors(response, "reason")
    first.refresh_from_db()
    assert first.status == ProposalStatus.PROPOSED


def test_over_capacity_acceptance_shows_a_message(client, listed_offer, community, supplier_user):
    day = next_delivery_day(listed_offer)
    first = propose(listed_offer, community, quantity=180, day=day)
    second = propose(listed_offer, CommunityFactory(), quantity=180, day=day)
    proposal_accept(proposal=first, actor=supplier_user, side=Side.SUPPLIER)
    client.force_login(supplier_user)
    response = client.post(
        reverse("scheduling:supplier_proposal_accept", args=[second.pk]), follow=True
    )
    assert any("Only 120 left" in m for m in messages_of(response))
    second.refresh_from_db()
    assert second.status == ProposalStatus.PROPOSED


def test_answering_twice_says_already_answered(client, listed_offer, community, supplier_user):
    first = propose(listed_offer, community)
    client.force_login(supplier_user)
    client.post(reverse("scheduling:supplier_proposal_accept", args=[first.pk]))
    for action, data in (
        ("accept", {}),
        ("decline", {"reason": "x"}),
        ("counter", {"quantity": 12, "unit_price": "9"}),
    ):
        response = client.post(
            reverse(f"scheduling:supplier_proposal_{action}", args=[first.pk]), data, follow=True
        )
        assert any("already been answered" in m for m in messages_of(response)), action
    assert CapacityCommitment.objects.get().committed == 12


def test_wrong_turn_is_a_message(leader_client, listed_offer, community):
    first = propose(listed_offer, community)
    response = leader_client.post(
        reverse("scheduling:leader_proposal_accept", args=[first.pk]), follow=True
    )
    assert any("other side's turn" in m for m in messages_of(response))
    first.refresh_from_db()
    assert first.status == ProposalStatus.PROPOSED


# Permissions


@pytest.fixture
def thread(listed_offer, community):
    return propose(listed_offer, community)


def _leader_urls(proposal):
    return [
        ("get", reverse("scheduling:leader_proposal", args=[proposal.pk])),
        *[
            ("post", reverse(f"scheduling:leader_proposal_{action}", args=[proposal.pk]))
            for action in ("accept", "counter", "decline", "withdraw")
        ],
    ]


def _supplier_urls(proposal):
    return [
        ("get", reverse("scheduling:supplier_proposal", args=[proposal.pk])),
        *[
            ("post", reverse(f"scheduling:supplier_proposal_{action}", args=[proposal.pk]))
            for action in ("accept", "counter", "decline", "withdraw")
        ],
    ]


def test_another_leader_gets_404(client, thread):
    client.force_login(CommunityFactory().leader)
    for method, url in _leader_urls(thread):
        assert getattr(client, method)(url, {"reason": "x"}).status_code == 404, url
    assert (
        client.get(reverse("scheduling:leader_proposals"))
        .content.decode()
        .count('data-testid="proposal-row"')
        == 0
    )
    thread.refresh_from_db()
    assert thread.status == ProposalStatus.PROPOSED


def test_another_supplier_gets_404(client, thread):
    other = SupplierFactory(status=ReviewStatus.APPROVED)
    client.force_login(other.members.get(is_owner=True).user)
    for method, url in _supplier_urls(thread):
        assert getattr(client, method)(url, {"reason": "x"}).status_code == 404, url
    assert (
        client.get(reverse("scheduling:supplier_proposals"))
        .content.decode()
        .count('data-testid="proposal-row"')
        == 0
    )
    thread.refresh_from_db()
    assert thread.status == ProposalStatus.PROPOSED


def test_counter_pages_are_not_threads(client, thread, supplier_user, leader):
    counter = proposal_counter(
        proposal=thread,
        actor=supplier_user,
        side=Side.SUPPLIER,
        quantity=24,
        unit_price=Decimal("9.00"),
    )
    client.force_login(leader)
    assert client.get(reverse("scheduling:leader_proposal", args=[counter.pk])).status_code == 404


def _all_urls(proposal, offer):
    return [
        ("get", reverse("scheduling:leader_proposals")),
        ("get", reverse("scheduling:leader_proposal_create", args=[offer.pk])),
        *_leader_urls(proposal),
        ("get", reverse("scheduling:supplier_proposals")),
        ("get", reverse("scheduling:supplier_capacity")),
        *_supplier_urls(proposal),
    ]


@pytest.mark.parametrize("who", ["member", "staff"])
def test_member_and_staff_get_403(client, thread, listed_offer, who):
    client.force_login(UserFactory() if who == "member" else StaffFactory())
    for method, url in _all_urls(thread, listed_offer):
        assert getattr(client, method)(url).status_code == 403, url


def test_leader_gets_403_on_supplier_pages_and_supplier_on_leader_pages(
    client, thread, leader, supplier_user, listed_offer
):
    urls = _all_urls(thread, listed_offer)
    client.force_login(leader)
    for method, url in urls:
        if "/supplier/" in url:
            assert getattr(client, method)(url).status_code == 403, url
    client.force_login(supplier_user)
    for method, url in urls:
        if "/leader/" in url:
            assert getattr(client, method)(url).status_code == 403, url


def test_anonymous_is_sent_to_log_in(client, thread, listed_offer):
    login = reverse("account_login")
    for method, url in _all_urls(thread, listed_offer):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response.url.startswith(login), url


def test_actions_are_post_only(leader_client, thread):
    url = reverse("scheduling:leader_proposal_withdraw", args=[thread.pk])
    assert leader_client.get(url).status_code == 405


# Lists and capacity


def test_status_filter(client, listed_offer, community, supplier_user):
    first = propose(listed_offer, community)
    propose(listed_offer, community)
    proposal_accept(proposal=first, actor=supplier_user, side=Side.SUPPLIER)
    client.force_login(supplier_user)
    url = reverse("scheduling:supplier_proposals")
    assert client.get(url).content.decode().count('data-testid="proposal-row"') == 2
    accepted = client.get(url, {"status": "accepted"}).content.decode()
    assert accepted.count('data-testid="proposal-row"') == 1
    assert 'data-status="accepted"' in accepted
    proposed = client.get(url, {"status": "proposed"}).content.decode()
    assert proposed.count('data-testid="proposal-row"') == 1
    assert (
        client.get(url, {"status": "junk"}).content.decode().count('data-testid="proposal-row"')
        == 2
    )


def test_capacity_page_numbers(client, listed_offer, community, supplier_user):
    day = next_delivery_day(listed_offer)
    accepted = propose(listed_offer, community, quantity=120, day=day)
    proposal_accept(proposal=accepted, actor=supplier_user, side=Side.SUPPLIER)
    other = propose(listed_offer, CommunityFactory(), quantity=60, day=day)
    proposal_accept(proposal=other, actor=supplier_user, side=Side.SUPPLIER)
    propose(listed_offer, community, quantity=24, day=day)  # open, not committed
    CapacityCommitment.objects.create(
        offer=listed_offer,
        delivery_date=timezone.localdate() - timedelta(days=1),
        capacity=300,
        committed=300,
    )
    # Another supplier's day stays out of sight.
    foreign = make_listed_offer(SupplierFactory(status=ReviewStatus.APPROVED), StaffFactory())
    CapacityCommitment.objects.create(offer=foreign, delivery_date=day, capacity=300, committed=12)

    client.force_login(supplier_user)
    response = client.get(reverse("scheduling:supplier_capacity"))
    body = response.content.decode()
    assert body.count('data-testid="capacity-row"') == 1
    row = response.context["page_obj"][0]
    assert (row.delivery_date, row.capacity, row.committed, row.remaining, row.pending) == (
        day,
        300,
        180,
        120,
        24,
    )
    assert by_testid(response, "committed").strip() == "180"
    assert by_testid(response, "remaining").strip() == "120"
    assert by_testid(response, "capacity").strip() == "300"
    assert by_testid(response, "pending").strip() == "24"
    filtered = client.get(reverse("scheduling:supplier_capacity"), {"offer": foreign.pk})
    assert filtered.content.decode().count('data-testid="capacity-row"') == 0
    filtered = client.get(reverse("scheduling:supplier_capacity"), {"offer": "x"})
    assert filtered.status_code == 200


def _make_threads(offer, count):
    communities = [CommunityFactory() for _ in range(3)]
    day = next_delivery_day(offer)
    for n in range(count):
        community = communities[n % 3]
        root = Proposal.objects.create(
            offer=offer,
            supplier=offer.supplier,
            leader=community.leader,
            community=community,
            proposed_by=Side.LEADER,
            author=community.leader,
            delivery_date=day,
            quantity=12,
            unit_price=Decimal("10.00"),
        )
        if n % 2:
            Proposal.objects.filter(pk=root.pk).update(status=ProposalStatus.COUNTERED)
            Proposal.objects.create(
                offer=offer,
                supplier=offer.supplier,
                leader=community.leader,
                community=community,
                thread=root,
                parent=root,
                proposed_by=Side.SUPPLIER,
                delivery_date=day,
                quantity=18,
                unit_price=Decimal("9.50"),
            )
    return communities[0].leader


def _queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured), response


@pytest.mark.parametrize("side", ["leader", "supplier"])
def test_list_query_budget_is_flat(client, listed_offer, supplier_user, side, settings):
    settings.PAGINATE_BY = 50
    counts = []
    for total in (3, 30):
        Proposal.objects.all().delete()
        leader = _make_threads(listed_offer, total)
        if side == "leader":
            client.force_login(leader)
            url = reverse("scheduling:leader_proposals")
            expected = total // 3
        else:
            client.force_login(supplier_user)
            url = reverse("scheduling:supplier_proposals")
            expected = total
        number, response = _queries(client, url)
        assert response.content.decode().count('data-testid="proposal-row"') == expected
        counts.append(number)
    assert counts[0] == counts[1], counts


def test_list_shows_latest_step_and_turn(client, listed_offer, community, leader, supplier_user):
    first = propose(listed_offer, community)
    proposal_counter(
        proposal=first,
        actor=supplier_user,
        side=Side.SUPPLIER,
        quantity=30,
        unit_price=Decimal("9.20"),
    )
    client.force_login(leader)
    response = client.get(reverse("scheduling:leader_proposals"))
    row = response.context["page_obj"][0]
    assert (row.pk, row.latest_quantity, row.latest_unit_price, row.step_count) == (
        first.pk,
        30,
        Decimal("9.20"),
        2,
    )
    assert "Your turn" in by_testid(response, "turn")
    client.force_login(supplier_user)
    response = client.get(reverse("scheduling:supplier_proposals"))
    assert "Waiting for the leader" in by_testid(response, "turn")
