"""Tenant-held keys: PKCS#11 key-encryption keys, wrapped data keys, encrypted disks."""
