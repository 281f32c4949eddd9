"""``python -m tenantry`` runs the CLI."""

from tenantry.cli import main

main()
