"""Measured boot: TPM 2.0 quotes checked against golden measurements."""
