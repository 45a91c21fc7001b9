#!/usr/bin/env python3
"""Sets up a small, realistic world through the API so that the signed-in
calls of the conformance run reach real code instead of stopping at 404s:
an area with a child area, a recovery hub in it, a peer, a peer trainer, a
coordinator and a commissioner, their certificates, a training session, a
stock batch allocated to the peer, a handout and a reversal report.

Standard library only. Usage: fixture.py BASE_URL ADMIN_EMAIL ADMIN_PASSWORD OUT.json
Writes the ids and credentials it made to OUT.json (with an admin's access
token), and to OUT.json's folder `dictionaries.toml`: schemathesis
dictionaries of the ids, which conformance/schemathesis.toml binds to the
`{id}` and `{code}` path parameters.
"""

import os

import datetime as dt
import json
import sys
import urllib.error
import urllib.request
import uuid

BASE, ADMIN_EMAIL, ADMIN_PASSWORD, OUT = sys.argv[1:5]
PASSWORD = "correct horse battery staple"


def call(method, path, token=None, body=None, expect=(200, 201)):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(BASE + path, data=data, method=method)
    if data is not None:
        request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode()
    if status not in expect:
        sys.exit(f"fixture: {method} {path} answered {status}: {text}")
    return json.loads(text) if text else None


def login(email, password=PASSWORD):
    return call("POST", "/api/v1/auth/login", body={"email": email, "password": password})["access_token"]


def now():
    return dt.datetime.now(dt.timezone.utc)


def rfc3339(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


admin = login(ADMIN_EMAIL, ADMIN_PASSWORD)
products = call("GET", "/api/v1/products", admin)["items"]
product = next(p for p in products if p["route"] == "intramuscular")

nation = call("POST", "/api/v1/areas", admin, {"name": "Scotland"})
area = call(
    "POST",
    "/api/v1/areas",
    admin,
    {"name": "East Ayrshire", "parent_id": nation["id"], "population_at_risk": 1200},
)
hub = call(
    "POST",
    "/api/v1/organisations",
    admin,
    {"name": "Kilmarnock Recovery Hub", "kind": "recovery_hub", "area_id": area["id"]},
)


def user(email, name, roles, **extra):
    body = {"email": email, "display_name": name, "password": PASSWORD, "roles": roles, **extra}
    return call("POST", "/api/v1/users", admin, body)


peer = user("peer@hub.example", "Jo Peer", ["peer"], organisation_id=hub["id"])
trainer = user("trainer@hub.example", "Ali Trainer", ["peer", "trainer"], organisation_id=hub["id"])
coordinator = user("coordinator@hub.example", "Sam Coordinator", ["coordinator"], organisation_id=hub["id"])
commissioner = user("commissioner@adp.example", "Kim Commissioner", ["commissioner"], area_id=nation["id"])

trainer_certificate = call(
    "POST",
    "/api/v1/certificates",
    admin,
    {"user_id": trainer["id"], "level": "peer_trainer", "reason": "the hub's first peer trainer"},
)
trainer_token = login(trainer["email"])
training = call(
    "POST",
    "/api/v1/trainings",
    trainer_token,
    {
        "id": str(uuid.uuid4()),
        "delivered_on": now().date().isoformat(),
        "kind": "peer_supplier_course",
        "setting": "hub",
        "attendee_ids": [peer["id"]],
        "anonymous_attendees": 3,
        "kits_handed_out": 2,
    },
)
peer_certificate = call(
    "POST",
    "/api/v1/certificates",
    trainer_token,
    {"user_id": peer["id"], "level": "peer_supplier", "training_id": training["id"]},
)

expires_on = (now().date() + dt.timedelta(days=540)).isoformat()
batch = call(
    "POST",
    "/api/v1/batches",
    admin,
    {
        "product_id": product["id"],
        "lot_number": "PX24117",
        "expires_on": expires_on,
        "quantity": 40,
        "organisation_id": hub["id"],
    },
)
call(
    "POST",
    "/api/v1/stock/movements",
    admin,
    {"kind": "allocate", "batch_id": batch["id"], "user_id": peer["id"], "quantity": 10},
)

peer_token = login(peer["email"])
kit_issue = call(
    "POST",
    "/api/v1/kit-issues",
    peer_token,
    {
        "id": str(uuid.uuid4()),
        "issued_at": rfc3339(now()),
        "area_id": area["id"],
        "postcode_district": "KA1",
        "setting": "outreach",
        "product_id": product["id"],
        "quantity": 2,
        "recipient_type": "person_at_risk",
        "supply": "first",
        "brief_training_given": True,
    },
)
reversal = call(
    "POST",
    "/api/v1/reversals",
    peer_token,
    {
        "id": str(uuid.uuid4()),
        "occurred_at": rfc3339(now()),
        "area_id": area["id"],
        "place": "street_or_park",
        "administered_by": "reporting_peer",
        "product_id": product["id"],
        "doses": 2,
        "emergency_services_called": "yes",
        "outcome": "survived",
        "kit_issue_id": kit_issue["id"],
    },
)

with open(OUT, "w") as out:
    json.dump(
        {
            "admin_token": admin,
            "password": PASSWORD,
            "product_id": product["id"],
            "nation_id": nation["id"],
            "area_id": area["id"],
            "organisation_id": hub["id"],
            "peer": {"id": peer["id"], "email": peer["email"]},
            "trainer": {"id": trainer["id"], "email": trainer["email"]},
            "coordinator": {"id": coordinator["id"], "email": coordinator["email"]},
            "commissioner": {"id": commissioner["id"], "email": commissioner["email"]},
            "certificates": [trainer_certificate["id"], peer_certificate["id"]],
            "verification_code": peer_certificate["verification_code"],
            "training_id": training["id"],
            "batch_id": batch["id"],
            "kit_issue_id": kit_issue["id"],
            "reversal_id": reversal["id"],
        },
        out,
        indent=2,
    )
dictionaries = {
    "area_ids": [nation["id"], area["id"]],
    "organisation_ids": [hub["id"]],
    "product_ids": [p["id"] for p in products],
    "user_ids": [peer["id"], trainer["id"], coordinator["id"], commissioner["id"]],
    "training_ids": [training["id"]],
    "certificate_ids": [trainer_certificate["id"], peer_certificate["id"]],
    "verification_codes": [peer_certificate["verification_code"], trainer_certificate["verification_code"]],
    "batch_ids": [batch["id"]],
    "kit_issue_ids": [kit_issue["id"]],
    "reversal_ids": [reversal["id"]],
}
with open(os.path.join(os.path.dirname(os.path.abspath(OUT)), "dictionaries.toml"), "w") as out:
    out.write("# Written by conformance/fixture.py: the ids of the fixture's records.\n")
    for name, values in dictionaries.items():
        out.write(f"\n[dictionaries.{name}]\nvalues = {json.dumps(values)}\n")

print(
    "fixture: 2 areas, 1 organisation, 4 users, 2 certificates, 1 training, "
    "1 batch, 1 handout and 1 reversal report"
)
