"""Storage: a host that runs one tenant's guests and sees a LUN dedicated to another.

Datastores shared by tenants without dedicated storage are shared by design (the hypervisor
keeps each disk to its guest). A tenant with a placement tag has dedicated hosts and
storage; its data leaks when a datastore holding its disks, or tagged for it, is masked to a
host that runs or is reserved for another tenant, or when another tenant's disk sits on it.
"""

from __future__ import annotations

from tenantry.verify.counterexample import Counterexample
from tenantry.verify.facts import PhysicalFacts
from tenantry.verify.report import Leak, LeakKind

__all__ = ["storage_leaks"]


def storage_leaks(facts: PhysicalFacts) -> list[Leak]:
    """Every storage exposure between two tenants, both directions."""
    tag_owner = {tag: tenant for tenant, tag in facts.placement_tags}
    dedicated = {tenant for tenant, _ in facts.placement_tags}
    runs = dict(facts.host_guests)
    host_tags = dict(facts.host_tags)
    found: dict[tuple[str, str], Leak] = {}

    def add(a: str, b: str, cause: str, description: str) -> None:
        for source, target in ((a, b), (b, a)):
            if (source, target) not in found:
                example = Counterexample((), description)
                found[(source, target)] = Leak(LeakKind.STORAGE, source, target, cause, example)

    for store in facts.datastores:
        owners = {tag_owner[t] for t in store.tags if t in tag_owner}
        for owner, _, _ in store.disks:
            if owner in dedicated:
                owners.add(owner)
        for a in sorted(owners):
            for owner, guest, disk in store.disks:
                if owner != a:
                    add(
                        a,
                        owner,
                        f"datastore {store.name} is dedicated to {a} but holds {owner}'s disk",
                        f"disk {disk} of {owner}/{guest} is on datastore {store.name} "
                        f"({store.lun}), dedicated to {a}",
                    )
            for host in store.masked_to:
                for owner, guest in runs.get(host, ()):
                    if owner != a:
                        add(
                            a,
                            owner,
                            f"datastore {store.name} with {a}'s data is masked to host {host}, "
                            f"which runs {owner}'s guests",
                            f"host {host} runs {owner}/{guest} and sees {store.lun} "
                            f"(datastore {store.name}), which holds {a}'s data",
                        )
                for tag in host_tags.get(host, ()):
                    other = tag_owner.get(tag)
                    if other is not None and other != a:
                        add(
                            a,
                            other,
                            f"datastore {store.name} with {a}'s data is masked to host {host}, "
                            f"reserved for {other}",
                            f"host {host} (placement tag {tag}) sees {store.lun} "
                            f"(datastore {store.name}), which holds {a}'s data",
                        )
    return [found[k] for k in sorted(found)]
