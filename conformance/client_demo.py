#!/usr/bin/env python3
"""What a third-party phone app does, through a client that
openapi-python-client generated from openapi/openapi.json with no hand
edits: a peer signs in, records a kit handout, syncs an offline queue and
reports a reversal; their coordinator and the area's commissioner read the
statistics. Every answer is checked.

Usage: client_demo.py BASE_URL FIXTURE.json CLIENT_DIR
CLIENT_DIR holds the generated package `naloxone_client`; FIXTURE.json is
what fixture.py wrote on a fresh database (the counts below rely on it).
"""

import datetime as dt
import json
import sys
import uuid

BASE, FIXTURE, CLIENT_DIR = sys.argv[1:4]
sys.path.insert(0, CLIENT_DIR)

from naloxone_client import AuthenticatedClient, Client  # noqa: E402
from naloxone_client.api.auth import sign_in as login  # noqa: E402
from naloxone_client.api.kit_issues import create_kit_issue  # noqa: E402
from naloxone_client.api.reversals import create_reversal  # noqa: E402
from naloxone_client.api.statistics import get_kit_stats as kit_stats  # noqa: E402
from naloxone_client.api.statistics import get_stats_summary as summary_stats  # noqa: E402
from naloxone_client.api.sync import sync_records as sync  # noqa: E402
from naloxone_client.types import Unset  # noqa: E402
from naloxone_client.models import (  # noqa: E402
    AdministeredBy,
    HeldReasonCode,
    HeldItem,
    InvalidItem,
    KitIssue,
    KitSetting,
    KitStatsTable,
    LoginRequest,
    NewKitIssue,
    NewReversal,
    Outcome,
    Place,
    Problem,
    RecipientType,
    RepeatReason,
    Reversal,
    Summary,
    Supply,
    SyncRequest,
    SyncResponse,
    TokenPair,
    YesNoUnknown,
)

fixture = json.load(open(FIXTURE))
AREA = uuid.UUID(fixture["area_id"])
PRODUCT = uuid.UUID(fixture["product_id"])
checks = 0


def check(condition, what):
    global checks
    if not condition:
        sys.exit(f"client demo: FAILED: {what}")
    checks += 1


def sign_in(email):
    response = login.sync_detailed(client=Client(base_url=BASE), body=LoginRequest(email=email, password=fixture["password"]))
    check(response.status_code == 200 and isinstance(response.parsed, TokenPair), f"{email} signs in")
    check(response.parsed.token_type == "Bearer" and response.parsed.expires_in > 0, "a bearer token that lasts")
    return AuthenticatedClient(base_url=BASE, token=response.parsed.access_token)


def plain(value):
    """An enum member's text; None for null or absent."""
    return None if value is None or isinstance(value, Unset) else getattr(value, "value", value)


def now():
    return dt.datetime.now(dt.timezone.utc)


def handout(quantity, **fields):
    return NewKitIssue(
        id=uuid.uuid4(),
        issued_at=now(),
        area_id=AREA,
        setting=fields.pop("setting", KitSetting.OUTREACH),
        product_id=PRODUCT,
        quantity=quantity,
        **fields,
    )


# A peer signs in and records a handout: a family member with consent, first supply.
peer = sign_in(fixture["peer"]["email"])
first = handout(3, recipient_type=RecipientType.FAMILY_FRIEND, consent_recorded=True, supply=Supply.FIRST)
response = create_kit_issue.sync_detailed(client=peer, body=first)
check(response.status_code == 201 and isinstance(response.parsed, KitIssue), "a new handout answers 201")
check(str(response.parsed.id) == str(first.id) and response.parsed.quantity == 3, "the handout as sent")
check(response.parsed.recipient_type == RecipientType.FAMILY_FRIEND, "recipient type kept")
# The phone's retry of the same record is harmless.
response = create_kit_issue.sync_detailed(client=peer, body=first)
check(response.status_code == 200 and str(response.parsed.id) == str(first.id), "sending it again answers 200")

# An offline queue: two new handouts, the one already sent, one the server holds
# (a family member's kit with no consent recorded: it happened, a coordinator
# puts it right) and one it cannot take (no kits at all).
queue = [
    handout(1, setting=KitSetting.HUB_DROP_IN),
    handout(4, recipient_type=RecipientType.PERSON_AT_RISK, supply=Supply.FIRST),
    first,
    handout(1, recipient_type=RecipientType.FAMILY_FRIEND),
    handout(0),
]
response = sync.sync_detailed(client=peer, body=SyncRequest(kit_issues=queue))
check(response.status_code == 200 and isinstance(response.parsed, SyncResponse), "sync answers 200")
results = response.parsed.kit_issues
check([r.status.value for r in results] == ["created", "created", "duplicate", "held", "invalid"],
      f"sync results in order: {[r.status for r in results]}")
check([str(r.id) for r in results] == [str(k.id) for k in queue], "sync results name the records sent")
held, invalid = results[3], results[4]
check(isinstance(held, HeldItem) and [h.code for h in held.held_reasons] == [HeldReasonCode.CONSENT_NOT_RECORDED],
      "the held record says why")
check(isinstance(invalid, InvalidItem) and any(e.field == "quantity" for e in invalid.errors),
      "the refused record names its field")

# A reversal with a replacement kit handed out on the spot.
reversal = NewReversal(
    id=uuid.uuid4(),
    occurred_at=now(),
    area_id=AREA,
    place=Place.HOSTEL,
    administered_by=AdministeredBy.REPORTING_PEER,
    product_id=PRODUCT,
    doses=2,
    outcome=Outcome.SURVIVED,
    emergency_services_called=YesNoUnknown.YES,
    kit_issue_id=uuid.UUID(fixture["kit_issue_id"]),
    replacement=handout(1, recipient_type=RecipientType.PERSON_AT_RISK, supply=Supply.REPEAT),
)
response = create_reversal.sync_detailed(client=peer, body=reversal)
check(response.status_code == 201 and isinstance(response.parsed, Reversal), "a new reversal answers 201")
check(response.parsed.outcome == Outcome.SURVIVED and response.parsed.doses == 2, "the reversal as sent")
check(str(response.parsed.kit_issue_id) == fixture["kit_issue_id"], "linked to the kit that was used")
replacement_id = response.parsed.replacement_kit_issue_id
check(str(replacement_id) == str(reversal.replacement.id), "the replacement kit is recorded with it")

# Peers do not read statistics.
response = kit_stats.sync_detailed(client=peer)
check(response.status_code == 403 and isinstance(response.parsed, Problem), "a peer gets 403 from /stats/kits")

# Kits in the area today: the fixture's 2, then 3 + 1 + 4 + the replacement's 1 = 11 in 5 handouts.
today = now().date()
coordinator = sign_in(fixture["coordinator"]["email"])
response = kit_stats.sync_detailed(client=coordinator, from_=today, to=today, group_by="supply,repeat_reason")
table = response.parsed
check(response.status_code == 200 and isinstance(table, KitStatsTable), "/stats/kits answers a table")
check(table.totals.kits == 11 and table.totals.suppressed == [], f"11 kits in all, none hidden: {table.totals.to_dict()}")
by_group = {(plain(row.supply), plain(row.repeat_reason)): row.kits for row in table.rows}
expected = {("first", None): 9, (None, None): 1, ("repeat", RepeatReason.USED_ON_OVERDOSE.value): 1}
check(by_group == expected,
      f"kits by supply and repeat reason: {by_group}")
check(sum(row.kits for row in table.rows) == table.totals.kits, "rows add up to the total")

response = summary_stats.sync_detailed(client=coordinator, from_=today, to=today, area_id=AREA)
figures = response.parsed
check(response.status_code == 200 and isinstance(figures, Summary), "/stats/summary answers")
check((figures.kits, figures.reversal_reports, figures.survived) == (11, 2, 2),
      f"summary kits, reversals, survived: {(figures.kits, figures.reversal_reports, figures.survived)}")
check(figures.population_at_risk == 1200, "the area's population at risk")

# The commissioner of the nation sees the same area with small counts hidden.
commissioner = sign_in(fixture["commissioner"]["email"])
response = summary_stats.sync_detailed(client=commissioner, from_=today, to=today, area_id=AREA)
figures = response.parsed
check(response.status_code == 200 and isinstance(figures, Summary), "a commissioner reads the summary")
check(figures.kits == 11 and figures.reversal_reports is None and "reversal_reports" in figures.suppressed,
      f"2 reversals are hidden from a commissioner, 11 kits are not: {figures.to_dict()}")

print(f"client demo: {checks} checks passed")
