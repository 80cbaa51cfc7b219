"""Running the app: logs, backups, erasure of personal data."""
