from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import demo as accounts_demo
from catalog import demo as catalog_demo
from fulfillment import demo as fulfillment_demo
from orders import demo as orders_demo
from scheduling import demo as scheduling_demo


class Command(BaseCommand):
    help = "Load demo data for every role (safe to run again) and print the log-ins."

    def handle(self, *args, **options):
        with transaction.atomic():
            accounts = accounts_demo.seed_accounts()
            approved_suppliers = [s for s in accounts["suppliers"] if s.status == "approved"]
            catalog_demo.seed_catalog(staff=accounts["staff"], suppliers=approved_suppliers)
            schedule = scheduling_demo.seed_scheduling(community=accounts["communities"][0])
            if schedule is not None:
                orders_demo.seed_orders(schedule=schedule)
            fulfillment_demo.seed_fulfilment(community=accounts["communities"][0])
        self._print_logins(accounts["communities"])

    def _print_logins(self, communities):
        out = self.stdout
        password = accounts_demo.DEMO_PASSWORD
        out.write(
            self.style.SUCCESS("Demo data ready. Log in at http://127.0.0.1:8000/accounts/login/")
        )
        out.write(
            f"  Platform staff : {accounts_demo.STAFF['email']} / {password}   (also /admin/)"
        )
        out.write(f"  Supplier       : {accounts_demo.SUPPLIERS[0]['user']['email']} / {password}")
        out.write(
            f"  Supplier (pending review): {accounts_demo.SUPPLIERS[2]['user']['email']} / {password}"
        )
        out.write(f"  Leader         : {accounts_demo.LEADERS[0]['user']['email']} / {password}")
        out.write(
            f"  Leader applicant (pending): {accounts_demo.LEADERS[2]['user']['email']} / {password}"
        )
        out.write(
            "  Member         : phone +8613800000001, password left empty; "
            "the SMS sign-in code is printed in this console"
        )
        for community in communities:
            out.write(f"  Invite code of {community.name}: {community.invite_code}")
