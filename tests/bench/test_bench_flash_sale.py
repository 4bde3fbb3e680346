"""Flash sale: N members race over HTTP for one item capped at CAP units.

gunicorn (DEBUG off) and PostgreSQL serve the site; a private Redis and a real Celery
worker carry the sandbox gateway's signed payment notification back to gunicorn, as in
production. Every member logs in with the allauth form (phone and password), then, all at
once, opens the checkout page with one unit, places the order (online payment, the only
pickup point), follows the redirect to the sandbox cashier and taps Pay. Members who are
told the item is sold out count as "sold out"; anything else unexpected is an error.

Run with `make bench` (DATABASE_URL pointing at PostgreSQL); not part of `make test`.
BENCH_FLASH_BUYERS (200) and BENCH_FLASH_CAP (100) size the race; BENCH_FLASH_WORKERS and
BENCH_FLASH_THREADS the gunicorn gthread workers; BENCH_WORKER_POOL and
BENCH_WORKER_CONCURRENCY the Celery worker. Prints orders/s, latencies of the order
request and of the whole purchase, sold, reserved, oversold (must be 0) and errors.
"""

import os
import re
import secrets
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection
from django.db.models import Sum
from django.urls import reverse

from accounts.models import Membership, User
from orders.models import LineStatus, Order, OrderLine, OrderStatus, PaymentNotification
from sandboxpay.models import Charge
from tests.bench.flash_sale_client import (
    Gunicorn,
    Phone,
    Response,
    bench_settings,
    collectstatic,
    database_cpu_seconds,
    parse_forms,
    source_address,
)
from tests.notifications.realinfra import (
    BASE_DIR,
    FILE_SMS_BACKEND,
    RedisServer,
    Worker,
    clean_env,
    require_redis_server,
    worker_database_url,
)
from tests.orders.conftest import make_shop

pytestmark = [pytest.mark.bench, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BUYERS = int(os.environ.get("BENCH_FLASH_BUYERS", "200"))
CAP = int(os.environ.get("BENCH_FLASH_CAP", "100"))
# Measured on the 2-core reference machine (PostgreSQL, the worker and the 200 client
# threads share the cores): see README.md. Failed log-ins are counted per phone number
# (accounts/adapter.py), so any number of threads may log members in at once.
GUNICORN_WORKERS = int(os.environ.get("BENCH_FLASH_WORKERS", "3"))
GUNICORN_THREADS = int(os.environ.get("BENCH_FLASH_THREADS", "4"))
WORKER_POOL = os.environ.get("BENCH_WORKER_POOL", "solo")
WORKER_CONCURRENCY = int(os.environ.get("BENCH_WORKER_CONCURRENCY", "1"))
PAID_WAIT_SECONDS = 90
PASSWORD = "flash-Sale-bench-7319"
# The ordering service's answer when the stock ran out between the page and the order.
SOLD_OUT = re.compile(r"sold out", re.IGNORECASE)
# The checkout form's answer when the stock had already run out as the order arrived (the
# member's allowance is min(per-member limit - held, remaining); these members hold none).
NO_ALLOWANCE = re.compile(r"cannot add any more of this item", re.IGNORECASE)
CONFIRMING = ("place", "confirm", "order", "submit")
CASHIER_PATH = "/sandbox-pay/"


@dataclass
class Outcome:
    kind: str  # "paid": ordered and paid at the cashier; "sold_out"; "error"
    order_ms: float | None = None  # the checkout POST alone
    flow_ms: float | None = None  # checkout page, order, cashier, Pay, back to the shop
    detail: str = ""


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _percentiles(values: list[float]) -> str:
    if not values:
        return "p50=- p95=- p99=-"
    if len(values) == 1:
        return f"p50={values[0]:.0f}ms p95={values[0]:.0f}ms p99={values[0]:.0f}ms"
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return f"p50={cuts[49]:.0f}ms p95={cuts[94]:.0f}ms p99={cuts[98]:.0f}ms"


def _messages(response: Response) -> str:
    """The page's error messages, for an error report."""
    found = re.findall(
        r"<(?:ul|div|p|li)[^>]*(?:errorlist|error|alert)[^>]*>(.*?)</(?:ul|div|p|li)>",
        response.text,
        re.DOTALL,
    )
    text = " ".join(re.sub(r"<[^>]+>", " ", chunk) for chunk in found)
    text = re.sub(r"\s+", " ", text).strip()
    return f"HTTP {response.status} {response.path} {text[:300]}"


# --- One member ---------------------------------------------------------------------------


def log_in(phone: Phone, number: str) -> float:
    """The allauth log-in form with the phone number and the password; returns ms."""
    started = time.perf_counter()
    page = phone.get(reverse("account_login"))
    assert page.status == 200, _messages(page)
    form = next(f for f in parse_forms(page.text) if f.has_type("password"))
    login_field = "login" if "login" in form.names else "phone"
    answer = phone.submit(page, form, form.data({login_field: number, "password": PASSWORD}))
    assert answer.is_redirect, _messages(answer)
    assert "login" not in answer.location and "verify" not in answer.location, answer.location
    assert "sessionid" in phone.cookies, "no session after logging in"
    elapsed = _ms(started)
    phone.close()  # the sale starts later, on a new connection
    return elapsed


def _checkout_form(page: Response, item_id: int):
    """The page's order form: a POST form holding the item's quantity (or the most
    fields) — never the header's language or log-out forms."""
    forms = [f for f in parse_forms(page.text) if f.method == "post"]
    with_item = [f for f in forms if f"q_{item_id}" in f.names]
    if with_item:
        return with_item[0]
    return max(forms, key=lambda f: len(f.inputs), default=None)


def _submit_data(form, overrides: dict[str, str]) -> list[tuple[str, str]]:
    data = form.data(overrides, prefer=("online", "pickup"))
    named = [b for b in form.buttons if b.get("name")]
    if named:  # the button the member taps is sent too: the confirming one, else the last
        button = next((b for b in named if b.get("value") in CONFIRMING), named[-1])
        data.append((button["name"], button.get("value", "")))
    return data


def _pay_at_cashier(phone: Phone, page: Response) -> Response | str:
    """Tap Pay; returns the shop's page the cashier sends back to, or an error."""
    form = next((f for f in parse_forms(page.text) if f.button("outcome", "pay")), None)
    if form is None:
        return f"no Pay button on the cashier page: {_messages(page)}"
    answer = phone.submit(page, form, form.data({"outcome": "pay"}))
    if not answer.is_redirect:
        return f"the cashier did not take the payment: {_messages(answer)}"
    return phone.follow(answer)


def buy(phone: Phone, checkout_url: str, item_id: int) -> Outcome:
    started = time.perf_counter()
    try:
        page = phone.get(checkout_url)
        if page.status != 200:
            return Outcome("error", detail=f"checkout page: {_messages(page)}")
        form = _checkout_form(page, item_id)
        if form is None:
            if SOLD_OUT.search(page.text):
                return Outcome("sold_out", flow_ms=_ms(started), detail="page")
            return Outcome("error", detail=f"no order form: {_messages(page)}")
        ordering = time.perf_counter()
        answer = phone.submit(page, form, _submit_data(form, {f"q_{item_id}": "1"}))
        order_ms = _ms(ordering)
        if not answer.is_redirect:
            if answer.status < 500:
                for pattern, source in ((SOLD_OUT, "service"), (NO_ALLOWANCE, "form")):
                    if pattern.search(answer.text):
                        return Outcome("sold_out", order_ms, _ms(started), detail=source)
            return Outcome("error", order_ms, detail=f"order refused: {_messages(answer)}")
        landing = phone.follow(answer)
        if not landing.path.startswith(CASHIER_PATH):
            # An order page with a Pay button first, then the cashier.
            pay_form = next((f for f in parse_forms(landing.text) if "/pay/" in f.action), None)
            if pay_form is None:
                return Outcome("error", order_ms, detail=f"no way to pay: {_messages(landing)}")
            landing = phone.follow(phone.submit(landing, pay_form, _submit_data(pay_form, {})))
            if not landing.path.startswith(CASHIER_PATH):
                return Outcome("error", order_ms, detail=f"not the cashier: {_messages(landing)}")
        back = _pay_at_cashier(phone, landing)
        if isinstance(back, str):
            return Outcome("error", order_ms, detail=back)
        if back.status != 200:
            return Outcome("error", order_ms, detail=f"back in the shop: {_messages(back)}")
        return Outcome("paid", order_ms=order_ms, flow_ms=_ms(started))
    except Exception as error:  # a dropped connection, a timeout: an error, with its cause
        return Outcome("error", detail=f"{type(error).__name__}: {error}")
    finally:
        phone.close()


# --- The benchmark ------------------------------------------------------------------------


def _members(community, count: int) -> list[User]:
    hasher = PBKDF2PasswordHasher()  # production's hasher: each log-in costs what it will
    password = hasher.encode(PASSWORD, hasher.salt())
    users = User.objects.bulk_create(
        User(
            phone=f"+86135{n:08d}",
            phone_verified=True,
            display_name=f"抢购团员{n}",
            password=password,
            preferred_language="en",  # the sold-out message is matched in English
            current_community=community,
        )
        for n in range(count)
    )
    Membership.objects.bulk_create(Membership(user=user, community=community) for user in users)
    return users


def _cpu(server: Gunicorn) -> dict[str, float]:
    """CPU seconds so far of gunicorn, of its PostgreSQL backends and of this process (the
    simulated phones): they share the machine's cores."""
    return {
        "gunicorn": server.cpu_seconds(),
        "postgres": database_cpu_seconds(connection.settings_dict["NAME"]),
        "phones": time.process_time(),
    }


def _paid_orders(schedule):
    return Order.objects.filter(schedule=schedule, status=OrderStatus.PAID)


def test_bench_flash_sale(tmp_path):
    require_redis_server()
    shop = make_shop(grapes={"quantity_cap": CAP, "per_member_limit": 1})
    schedule, item = shop.schedule, shop.grapes
    buyers = _members(schedule.community, BUYERS)
    checkout_url = f"{reverse('orders:checkout', args=[schedule.pk])}?q_{item.pk}=1"

    settings_module = bench_settings(tmp_path, tmp_path / "static")
    redis = RedisServer(directory=tmp_path / "redis")
    redis.start()
    server = worker = None
    try:
        common = {
            "DJANGO_SETTINGS_MODULE": settings_module,
            "PYTHONPATH": f"{tmp_path}{os.pathsep}{BASE_DIR}",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "SANDBOX_PAY_SECRET": secrets.token_urlsafe(32),
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "SECURE_HSTS_SECONDS": "0",
            "LOG_LEVEL": "WARNING",
            "CELERY_BROKER_URL": redis.url(0),
        }
        server_env = clean_env(
            **common,
            DATABASE_URL=worker_database_url(),
            SMS_BACKEND=FILE_SMS_BACKEND,
            TEST_SMS_FILE=str(tmp_path / "sms.jsonl"),
            ALLOWED_HOSTS="127.0.0.1,localhost",
        )
        collectstatic(server_env)
        server = Gunicorn(
            env=server_env,
            log_path=tmp_path / "gunicorn.log",
            workers=GUNICORN_WORKERS,
            threads=GUNICORN_THREADS,
        )
        # The notify URL and the cashier URL are built from SITE_URL: this server.
        server.env["SITE_URL"] = server.url
        server.start()
        worker = Worker(
            broker_url=redis.url(0),
            sms_file=tmp_path / "sms.jsonl",
            log_path=tmp_path / "worker.log",
            pool=WORKER_POOL,
            concurrency=WORKER_CONCURRENCY,
            **{k: v for k, v in common.items() if k != "CELERY_BROKER_URL"},
            SITE_URL=server.url,
        )
        worker.start()

        phones = [Phone(server.port, source_address(n)) for n in range(BUYERS)]
        with ThreadPoolExecutor(max_workers=BUYERS) as pool:
            login_started = time.perf_counter()
            login_ms = list(pool.map(log_in, phones, [str(u.phone) for u in buyers]))
            login_s = time.perf_counter() - login_started

            cpu_before = _cpu(server)
            sale_started = time.perf_counter()
            outcomes = list(pool.map(lambda p: buy(p, checkout_url, item.pk), phones))
            sale_s = time.perf_counter() - sale_started
            cpu = {k: v - cpu_before[k] for k, v in _cpu(server).items()}

        placed = sum(o.kind == "paid" for o in outcomes)
        paid = 0
        deadline = time.perf_counter() + PAID_WAIT_SECONDS
        while time.perf_counter() < deadline:
            worker.assert_alive()
            server.assert_alive()
            paid = _paid_orders(schedule).count()
            if paid >= placed:
                break
            time.sleep(0.1)
        all_paid_s = time.perf_counter() - sale_started
        server.assert_alive()
        worker.assert_alive()
    finally:
        if worker is not None:
            worker.stop()
        if server is not None:
            server.stop()
        redis.close()

    item.refresh_from_db()
    sold = (
        OrderLine.objects.filter(
            item=item, status=LineStatus.ACTIVE, order__in=_paid_orders(schedule)
        ).aggregate(total=Sum("quantity"))["total"]
        or 0
    )
    oversold = max(0, sold - CAP)
    sold_out = sum(o.kind == "sold_out" for o in outcomes)
    sold_out_by = {
        source: sum(o.kind == "sold_out" and o.detail == source for o in outcomes)
        for source in ("service", "form", "page")
    }
    errors = [o.detail for o in outcomes if o.kind == "error"]
    order_ms = [o.order_ms for o in outcomes if o.kind == "paid"]
    flow_ms = [o.flow_ms for o in outcomes if o.kind == "paid"]
    refused_ms = [o.order_ms for o in outcomes if o.kind == "sold_out" and o.order_ms]
    orders_in_db = Order.objects.filter(schedule=schedule).count()
    delivered = Charge.objects.filter(notified_at__isnull=False).count()
    notified_paid = PaymentNotification.objects.filter(verified=True, outcome="paid").count()

    print(
        f"\nBENCH flash_sale: buyers={BUYERS} cap={CAP} "
        f"gunicorn={GUNICORN_WORKERS}x{GUNICORN_THREADS} worker={WORKER_POOL}x{WORKER_CONCURRENCY} "
        f"db={connection.vendor}\n"
        f"  log-in: {BUYERS} in {login_s:.1f}s, {_percentiles(login_ms)} (before the sale)\n"
        f"  sale: orders_placed={placed} in {sale_s:.2f}s orders_per_s={placed / sale_s:.1f}\n"
        f"  order request (checkout POST, placed): {_percentiles(order_ms)}\n"
        f"  order request (checkout POST, sold out): {_percentiles(refused_ms)}\n"
        f"  whole purchase (checkout page .. paid at the cashier): {_percentiles(flow_ms)}\n"
        f"  sale CPU: gunicorn={cpu['gunicorn']:.1f}s postgres={cpu['postgres']:.1f}s "
        f"phones={cpu['phones']:.1f}s on {os.cpu_count()} cores\n"
        f"  sold={sold} reserved_qty={item.reserved_qty} oversold={oversold} "
        f'sold_out_answers={sold_out} (said "sold out": {sold_out_by["service"]}, '
        f'"cannot add any more": {sold_out_by["form"]}, no form: {sold_out_by["page"]}) '
        f"errors={len(errors)}\n"
        f"  paid_in_db={paid} notifications_delivered={delivered} "
        f"all_paid_s={all_paid_s:.1f} (from the start of the sale)"
    )
    for detail in errors[:10]:
        print(f"  error: {detail}")

    assert oversold == 0
    assert not errors, errors[:10]
    assert placed == orders_in_db == min(BUYERS, CAP)
    assert sold_out == BUYERS - placed
    assert paid == placed, f"{paid}/{placed} paid within {PAID_WAIT_SECONDS}s"
    assert sold == min(BUYERS, CAP)
    assert item.reserved_qty == sold
    assert delivered == notified_paid == placed  # every order paid by the worker's POST
