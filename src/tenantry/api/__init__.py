"""The REST API (FastAPI): a thin edge over the service layer."""
