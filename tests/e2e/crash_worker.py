"""A process that writes to the store in a loop and says what was acknowledged; the crash test
kills it with SIGKILL at random points.

    python -m tests.e2e.crash_worker apply|bulk|persist STORE_URL KEY_FILE RUN

``apply``: one tenant change per iteration through Service; prints ``<generation> <text>``
once the apply has returned. ``bulk``: group-committed login events; prints the signed
head's size once a flush has returned. ``persist``: like ``apply`` for 30 iterations, but a
refused write prints ``refused <code>`` and the loop goes on.
"""

from __future__ import annotations

import sys
from itertools import count
from pathlib import Path

from tenantry.audit import AuditRecord, Outcome
from tenantry.errors import TenantryError
from tenantry.service.signing import load_signing_key
from tests.helpers.audit import TENANTS, describe_tenant, open_service, operator


def main() -> None:
    mode, url, key, run = sys.argv[1], sys.argv[2], Path(sys.argv[3]), sys.argv[4]
    service = open_service(url, load_signing_key(key, create=False))
    print("ready", flush=True)
    for i in count():
        if mode == "persist":
            if i == 30:
                return
            text = f"run {run} step {i}"
            try:
                generation = describe_tenant(service, operator(), TENANTS[i % len(TENANTS)], text)
            except TenantryError as exc:
                print(f"refused {exc.code}", flush=True)
            else:
                print(f"{generation} {text}", flush=True)
        elif mode == "apply":
            text = f"run {run} step {i}"
            generation = describe_tenant(service, operator(), TENANTS[i % len(TENANTS)], text)
            print(f"{generation} {text}", flush=True)
        else:
            with service.audit.appender(batch_size=500) as appender:
                for j in range(500):
                    appender.add(
                        AuditRecord(
                            actor="loadgen",
                            action="login",
                            outcome=Outcome.SUCCEEDED,
                            targets=(f"user {run}-{i}-{j}",),
                            tenants=(TENANTS[j % len(TENANTS)],),
                        )
                    )
            assert appender.head is not None
            print(f"{appender.head.size}", flush=True)


if __name__ == "__main__":
    main()
