"""Catalog fixtures: an approved supplier with a product, offers in each state."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import ReviewStatus
from catalog import services
from catalog.models import Category, Storage
from tests.factories import StaffFactory, SupplierFactory


def offer_terms(**overrides):
    today = timezone.localdate()
    terms = {
        "supply_price": Decimal("10.00"),
        "retail_price": Decimal("15.00"),
        "min_order_qty": 12,
        "case_size": 6,
        "daily_capacity": 300,
        "lead_time_days": 1,
        "delivery_weekdays": "0123456",
        "valid_from": today,
        "valid_until": today + timedelta(days=30),
        "notes": "",
    }
    terms.update(overrides)
    return terms


def make_product(supplier, **overrides):
    fields = {
        "name": "阳光玫瑰葡萄",
        "name_en": "Shine Muscat grapes",
        "spec": "500 g x 2",
        "unit": "盒",
        "category": Category.objects.get(code="fruit"),
        "brand": "",
        "origin": "云南",
        "barcode": "",
        "storage": Storage.CHILLED,
        "shelf_life_days": 7,
        "description": "",
        "description_en": "",
    }
    fields.update(overrides)
    return services.product_create(supplier=supplier, **fields)


def make_listed_offer(supplier, staff, product=None, **terms):
    """An approved offer of a supplier whose contract is signed: visible to leaders."""
    owner = supplier.members.get(is_owner=True).user
    product = product or make_product(supplier)
    offer = services.offer_create(product=product, **offer_terms(**terms))
    services.offer_submit(offer=offer, actor=owner)
    offer = services.offer_approve(offer=offer, actor=staff)
    contract = supplier.contracts.filter(status="pending_signature").first()
    if contract:
        services.contract_sign(
            contract=contract, actor=owner, typed_name="张三", agreed=True, ip="127.0.0.1"
        )
    return offer


@pytest.fixture
def approved_supplier(db):
    return SupplierFactory(status=ReviewStatus.APPROVED)


@pytest.fixture
def supplier_owner(approved_supplier):
    return approved_supplier.members.get(is_owner=True).user


@pytest.fixture
def catalog_staff(db):
    return StaffFactory()


@pytest.fixture
def product(approved_supplier):
    return make_product(approved_supplier)
