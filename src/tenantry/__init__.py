"""tenantry: secure multi-tenancy for virtualized infrastructure.

The packages follow the flow of docs/architecture.md:

- ``spec``: the YAML desired state, with file/line errors, to and from the model.
- ``model``: the domain (tenants, hosts, switches, segments, vNICs, policies); pure.
- ``service``: the one door to state: authorization, admission, one transaction, audit.
- ``store``: SQLite/PostgreSQL persistence (only the service opens it).
- ``compiler``: policies and tags to per-host programs.
- ``dataplane``: backends that enforce the programs (reference, OVN, lab guests).
- ``verify``: proofs of isolation over what is enforced.
- ``governance``, ``audit``, ``keys``, ``attestation``: who may do what, the Merkle trail,
  tenant-held keys, measured boot.
- ``api``, ``cli``: thin edges over the service; ``client``: the API over HTTPS (httpx).
"""

__version__ = "0.1.0"
